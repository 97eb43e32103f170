/**
 * Client configuration: the caller's config or connection string, environment fallbacks, defaults
 * (units in the names), and redaction so credentials never reach a log, an error or `toString()`.
 */
import { InvalidArgumentError } from '../vocabulary/errors.js';
import type { ResolvedRetry } from '../engine/runner.js';
import type { PostgresEngineConfig } from '../engine/postgres.js';
import { redactConnectionString } from '../engine/connection-string.js';
import { startupOptionsFor } from '../engine/startup-options.js';
import type { ReplicaConfig } from '../replica/replica-config.js';
import type { TelemetryConfig } from '../telemetry/telemetry.js';

/**
 * How connection faults and deadlocks (40P01) are retried outside transactions (reads always; writes
 * because message ids make them safe, and a deadlocked statement was rolled back whole).
 */
export interface RetryConfig {
  /** Tries in all, the first included (default 10; 1 turns retries off). */
  maxAttempts?: number;
  /** Delay before the first retry (default 50 ms), doubled each time... */
  initialDelayMs?: number;
  /** ...up to this (default 2000 ms). */
  maxDelayMs?: number;
}

/** Options shared by both engines (telemetry: `metrics`, `tracing`, `logger`). */
export interface CommonConfig extends TelemetryConfig {
  /**
   * Allow the raw-SQL `condition` argument. Off by default: the condition is appended to the
   * server's query verbatim, so whoever controls it can read any table the role can. When on, the
   * client also switches on `message_store.sql_condition` for its own sessions.
   */
  allowCondition?: boolean;
  retry?: RetryConfig;
  /**
   * The id of each message written without one (default: a random UUID). Must return a UUID not
   * used before, or the write fails; tests pass a deterministic source (`sequentialIds()` of
   * `messagedb/testing`) to get the same ids on every run.
   */
  messageId?: () => string;
}

/** `MessageDbClient.connect()` configuration (read replicas: `readReplicas` and the options next to it). */
export interface ConnectConfig extends CommonConfig, ReplicaConfig {
  /**
   * `postgres://...`; defaults to MESSAGE_DB_URL, then DATABASE_URL, then the PG* variables. Its
   * `options` parameter (else PGOPTIONS) is merged with the client's startup options: a
   * `search_path` gets message_store first, and a DateStyle other than ISO is refused.
   */
  connectionString?: string;
  /** Default 10. */
  maxPoolSize?: number;
  /** Connecting, and waiting for a pooled connection (default 30000). */
  connectTimeoutMs?: number;
  /** Idle pooled connections are closed after this (default 10000). */
  idleTimeoutMs?: number;
  /** Server-side `statement_timeout` for every statement (default: none). */
  statementTimeoutMs?: number;
  /**
   * How long the client waits for the server's answer to one statement before it gives the
   * connection up as lost (a dead network, a frozen peer): the call then fails with a connection
   * fault, retried per `retry` on another connection. Default 60000, or `statementTimeoutMs` plus
   * `connectTimeoutMs` when a statement timeout is set. A statement given up this way may still
   * have run: writes are retried with the same message ids, so none is stored twice.
   */
  queryTimeoutMs?: number;
  /** TCP keepalive on every connection: idle time before the first probe (default 10000). */
  keepAliveInitialDelayMs?: number;
  /** Shown in pg_stat_activity (default `messagedb`). */
  applicationName?: string;
  /** Prepare statements by name once per connection (default true; turn off behind PgBouncer in transaction mode). */
  preparedStatements?: boolean;
  /**
   * When all maxPoolSize connections are busy, send a call's statement on the least busy one,
   * pipelined behind what runs there, instead of waiting for a free connection (default false).
   * Concurrent callers then share round trips; but a statement waits behind whatever runs before
   * it (a lock wait, a long read), an abort or timeout of one closes the connection under the
   * others (they fail as on a lost connection and are retried), and `close()` cannot hold back
   * statements already sent.
   */
  pipelining?: boolean;
}

/** `MessageDbClient.embedded()` configuration. */
export interface EmbeddedConfig extends CommonConfig {
  /** Directory for the database files; in memory when omitted. */
  dataDir?: string;
  /** Install (or verify) Message DB when opening (default true). */
  install?: boolean;
  /**
   * Start from a copy of a database that `client.dumpDataDir()` dumped, instead of an empty one:
   * several times faster than installing Message DB in a new database (the test kit's
   * `createTestClient()` loads one per test). In memory only: not with `dataDir`.
   */
  loadDataDir?: Blob;
}

/** Retry settings with defaults applied (the runner's type). */
export type { ResolvedRetry };

/** The `messageId` option checked: a function, or undefined. */
export function resolveMessageId(messageId: unknown): (() => string) | undefined {
  if (messageId === undefined) return undefined;
  if (typeof messageId !== 'function') throw new InvalidArgumentError('messageId', `must be a function that returns a UUID (got ${typeof messageId})`);
  return messageId as () => string;
}

/** The `loadDataDir` option checked: a Blob, for an in-memory database. */
export function resolveLoadDataDir(config: EmbeddedConfig): Blob | undefined {
  const { loadDataDir } = config;
  if (loadDataDir === undefined) return undefined;
  if (!(loadDataDir instanceof Blob)) throw new InvalidArgumentError('loadDataDir', 'must be a Blob from client.dumpDataDir()');
  if (config.dataDir !== undefined) throw new InvalidArgumentError('loadDataDir', 'is for an in-memory database: give it without dataDir');
  return loadDataDir;
}

export function resolveRetry(retry: RetryConfig | undefined): ResolvedRetry {
  return {
    maxAttempts: positive('retry.maxAttempts', retry?.maxAttempts, 10),
    initialDelayMs: positive('retry.initialDelayMs', retry?.initialDelayMs, 50),
    maxDelayMs: positive('retry.maxDelayMs', retry?.maxDelayMs, 2000),
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(name, `must be a positive integer (got ${String(value)})`);
  return value;
}

/** The client's bound on one statement's answer when neither queryTimeoutMs nor statementTimeoutMs is set. */
export const defaultQueryTimeoutMs = 60_000;

/** Resolve a connect config (or a bare connection string) against the environment. */
export function resolveConnectConfig(config: string | ConnectConfig | undefined, env = process.env): PostgresEngineConfig {
  const given = typeof config === 'string' ? { connectionString: config } : (config ?? {});
  if (typeof given !== 'object') throw new InvalidArgumentError('config', 'must be a connection string or an object');
  const connectionString = given.connectionString ?? env.MESSAGE_DB_URL ?? env.DATABASE_URL;
  if (connectionString !== undefined && !/^postgres(ql)?:\/\//.test(connectionString)) {
    throw new InvalidArgumentError('connectionString', 'must start with postgres:// or postgresql://');
  }
  // The user's startup options are checked now, before anything connects (the engine merges them again).
  startupOptionsFor(connectionString, given.allowCondition === true, env);
  const statementTimeoutMs = given.statementTimeoutMs;
  if (statementTimeoutMs !== undefined) positive('statementTimeoutMs', statementTimeoutMs, 0);
  const connectTimeoutMs = positive('connectTimeoutMs', given.connectTimeoutMs, 30_000);
  return {
    connectionString,
    maxPoolSize: positive('maxPoolSize', given.maxPoolSize, 10),
    connectTimeoutMs,
    idleTimeoutMs: positive('idleTimeoutMs', given.idleTimeoutMs, 10_000),
    statementTimeoutMs,
    queryTimeoutMs: positive(
      'queryTimeoutMs',
      given.queryTimeoutMs,
      statementTimeoutMs === undefined ? defaultQueryTimeoutMs : statementTimeoutMs + connectTimeoutMs,
    ),
    keepAliveInitialDelayMs: positive('keepAliveInitialDelayMs', given.keepAliveInitialDelayMs, 10_000),
    applicationName: given.applicationName ?? 'messagedb',
    allowCondition: given.allowCondition === true,
    preparedStatements: given.preparedStatements !== false,
    pipelining: given.pipelining === true,
  };
}

export { redactConnectionString };

/** A description of where a client points, safe to print. */
export function describeTarget(config: PostgresEngineConfig, env = process.env): string {
  if (config.connectionString !== undefined) return redactConnectionString(config.connectionString);
  const host = env.PGHOST ?? 'localhost';
  const port = env.PGPORT ?? '5432';
  const user = env.PGUSER ?? env.USER ?? '';
  const database = env.PGDATABASE ?? user;
  return `postgres://${user === '' ? '' : `${user}@`}${host}:${port}/${database} (from PG* variables)`;
}
