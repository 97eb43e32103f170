/**
 * Read-replica configuration: the replicas' connection strings and how reads wait for them, with
 * defaults (units in the names) and the checks that run before anything connects.
 */
import { redactConnectionString } from '../engine/connection-string.js';
import type { PostgresEngineConfig } from '../engine/postgres.js';
import { startupOptionsFor } from '../engine/startup-options.js';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import * as validate from '../vocabulary/validate.js';

/** The read-replica part of `MessageDbClient.connect()`'s configuration. */
export interface ReplicaConfig {
  /**
   * Connection strings of hot-standby replicas of the primary. Reads go round robin to the
   * healthy ones; writes, transactions and position records go to the primary.
   */
  readReplicas?: readonly string[];
  /**
   * Reads that give no `after` wait for this client's own latest write, so a client sees what it
   * wrote (default true). Off: such reads take a replica as it is.
   */
  readYourWrites?: boolean;
  /**
   * How long a read waits for a replica to replay past its write token before it reads on the
   * primary instead (default 1000).
   */
  replicaWaitMs?: number;
  /** A replica that failed is skipped, and checked again after this long (default 2000). */
  replicaRetryDelayMs?: number;
}

/** One replica: its engine settings and a description safe to print. */
export interface ResolvedReplica {
  engine: PostgresEngineConfig;
  /** The connection string without its password. */
  target: string;
  /** `host:port/database`: the `replica` label of the metrics. */
  label: string;
}

/** Replica settings with defaults applied. */
export interface ResolvedReplicaConfig {
  replicas: ResolvedReplica[];
  readYourWrites: boolean;
  waitMs: number;
  retryDelayMs: number;
}

function label(connectionString: string): string {
  const url = new URL(connectionString);
  return `${url.hostname}:${url.port === '' ? '5432' : url.port}${url.pathname}`;
}

/**
 * Check and complete the replica settings; undefined when no replica is configured (the client then
 * reads and writes on the primary alone). Each replica's pool has the primary's pool settings.
 */
export function resolveReplicaConfig(config: ReplicaConfig, primary: PostgresEngineConfig): ResolvedReplicaConfig | undefined {
  const urls = config.readReplicas;
  if (urls === undefined) return undefined;
  if (!Array.isArray(urls)) throw new InvalidArgumentError('readReplicas', 'must be an array of connection strings');
  if (urls.length === 0) return undefined;
  const replicas = urls.map((url: unknown, index) => {
    const argument = `readReplicas[${index}]`;
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
      throw new InvalidArgumentError(argument, 'must be a connection string starting with postgres:// or postgresql://');
    }
    try {
      new URL(url);
    } catch (error) {
      throw new InvalidArgumentError(argument, 'must be a valid connection URL', { cause: error });
    }
    // A replica's own `options` are merged like the primary's; a DateStyle that is not ISO is refused now, naming it.
    startupOptionsFor(url, primary.allowCondition, process.env, argument);
    return { engine: { ...primary, connectionString: url }, target: redactConnectionString(url), label: label(url) };
  });
  if (config.readYourWrites !== undefined && typeof config.readYourWrites !== 'boolean') {
    throw new InvalidArgumentError('readYourWrites', `must be a boolean (got ${typeof config.readYourWrites})`);
  }
  return {
    replicas,
    readYourWrites: config.readYourWrites !== false,
    waitMs: config.replicaWaitMs === undefined ? 1000 : validate.integer('replicaWaitMs', config.replicaWaitMs, 0),
    retryDelayMs: config.replicaRetryDelayMs === undefined ? 2000 : validate.integer('replicaRetryDelayMs', config.replicaRetryDelayMs, 1),
  };
}
