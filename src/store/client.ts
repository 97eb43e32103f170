/**
 * MessageDbClient: opens an engine (a PostgreSQL server through postgres.js, or PGlite in this
 * process), and offers the session methods, transactions, the installer and pool statistics.
 */
import { inspect } from 'node:util';
import {
  describeTarget,
  resolveConnectConfig,
  resolveLoadDataDir,
  resolveMessageId,
  resolveRetry,
  type ConnectConfig,
  type EmbeddedConfig,
  type ResolvedRetry,
} from './config.js';
import type { Engine, NotificationHandler, PoolStats, Queryable, SqlRow, Unlisten } from '../engine/engine.js';
import { PostgresEngine } from '../engine/postgres.js';
import { ClosedError, MessageDbError, isConnectionError } from '../vocabulary/errors.js';
import { log } from '../telemetry/logger.js';
import type { MetricsRegistry } from '../telemetry/metrics.js';
import { Telemetry, type TelemetryConfig } from '../telemetry/telemetry.js';
import { install, type InstallResult } from './install.js';
import { fromConnectError, fromPostgresError } from '../vocabulary/postgres-error.js';
import { ReadRouter } from '../replica/read-router.js';
import { resolveReplicaConfig, type ResolvedReplicaConfig } from '../replica/replica-config.js';
import type { ReplicaSetStats } from '../replica/replica-stats.js';
import type { WriteToken } from '../replica/write-token.js';
import { backoffDelay, createRunner, sleep, type Runner } from '../engine/runner.js';
import { checkSql, MessageStoreSession, Transaction, type SqlOptions } from './session.js';
import * as sql from '../vocabulary/sql.js';
import * as validate from '../vocabulary/validate.js';

/** Options of `transaction()`. */
export interface TransactionOptions {
  signal?: AbortSignal;
}

export type { Transaction };

/** Options of `client.query()`. */
export interface ClientQueryOptions extends SqlOptions {
  /**
   * Run the statement in a READ ONLY transaction, and retry it on a lost connection with the
   * client's `retry` backoff, as the client's reads are retried (default false: not retried).
   */
  readOnly?: boolean;
}

/**
 * What the layers above the store (the consumer's position records and NOTIFY trigger) use of a
 * client besides its public methods. Kept out of the class, so the published types show none of it.
 */
export interface ClientInternals {
  readonly engine: Engine;
  /** Message DB's statements on the primary, retried on connection faults; ClosedError once the client is closed. */
  readonly primary: Runner;
  /** Throw ClosedError when the client is closed. */
  assertOpen(): void;
}

const internals = new WeakMap<MessageDbClient, ClientInternals>();

/** The internals of `client` (see ClientInternals). */
export function clientInternals(client: MessageDbClient): ClientInternals {
  const found = internals.get(client);
  if (found === undefined) throw new TypeError('Not a MessageDbClient');
  return found;
}

/**
 * A Message DB client.
 *
 * @example
 * await using client = await MessageDbClient.connect('postgres://localhost/message_store')
 * await client.writeMessage({ streamName: 'account-1', type: 'Opened', data: { owner: 'Ada' } })
 * for await (const message of client.readCategory('account')) console.log(message.type)
 */
export class MessageDbClient extends MessageStoreSession {
  readonly #engine: Engine;
  readonly #target: string;
  readonly #allowCondition: boolean;
  readonly #retry: ResolvedRetry;
  readonly #telemetry: Telemetry | undefined;
  readonly #router: ReadRouter | undefined;
  #unwatchPool: (() => void) | undefined;
  #unwatchReplicas: (() => void) | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Aborted by close(): ends retries waiting out their backoff. */
  readonly #closeController: AbortController;
  readonly #messageId: (() => string) | undefined;

  private constructor(options: {
    engine: Engine;
    target: string;
    retry: ResolvedRetry;
    allowCondition: boolean;
    telemetry: TelemetryConfig;
    replicas?: ResolvedReplicaConfig | undefined;
    messageId?: (() => string) | undefined;
  }) {
    const { engine, retry, allowCondition } = options;
    const telemetry = Telemetry.create(options.telemetry);
    let closed = (): boolean => false;
    const guarded: Queryable = {
      query: (statement, values, queryOptions) => {
        if (closed()) return Promise.reject(new ClosedError('MessageDbClient'));
        return engine.query(statement, values, queryOptions);
      },
      exec: (script) => engine.exec(script),
    };
    const onConnectionFault = telemetry && ((attempt: number, retrying: boolean, error: unknown) => telemetry.connectionFault(attempt, retrying, error));
    // Close ends a retry's backoff wait at once (the retry would fail with ClosedError anyway).
    const closing = new AbortController();
    const runner = createRunner(guarded, retry, () => closed(), onConnectionFault, closing.signal);
    const router = options.replicas === undefined ? undefined : new ReadRouter(runner, options.replicas);
    super(runner, allowCondition, telemetry, router, options.messageId);
    this.#messageId = options.messageId;
    closed = () => this.#closed;
    this.#closeController = closing;
    this.#router = router;
    this.#engine = engine;
    this.#target = options.target;
    this.#allowCondition = allowCondition;
    this.#retry = retry;
    this.#telemetry = telemetry;
    internals.set(this, {
      engine,
      primary: createRunner(engine, retry, () => this.#closed),
      assertOpen: () => this.#assertOpen(),
    });
    if (telemetry?.metrics !== undefined) {
      const metrics = telemetry.metrics;
      engine.onAcquireWait = (seconds) => metrics.acquireWait.observe({}, seconds);
      this.#unwatchPool = metrics.watchPool({ stats: () => engine.poolStats(), max: engine.maxConnections });
      if (router !== undefined) this.#unwatchReplicas = metrics.watchReplicas(router);
    }
  }

  /**
   * Connect to a PostgreSQL server. With no config: MESSAGE_DB_URL, then DATABASE_URL, then the
   * standard PG* variables. Opens one connection to prove the server answers: refused credentials
   * reject with AuthenticationError, a database that does not exist with DatabaseMissingError
   * (both naming the target without its password), and neither is retried.
   */
  static async connect(config?: string | ConnectConfig): Promise<MessageDbClient> {
    const resolved = resolveConnectConfig(config);
    const retry = resolveRetry(typeof config === 'object' ? config.retry : undefined);
    const replicas = typeof config === 'object' ? resolveReplicaConfig(config, resolved) : undefined;
    const telemetry = typeof config === 'object' ? config : {};
    const messageId = typeof config === 'object' ? resolveMessageId(config.messageId) : undefined;
    const engine = new PostgresEngine(resolved);
    const client = new MessageDbClient({
      engine,
      target: describeTarget(resolved),
      retry,
      allowCondition: resolved.allowCondition,
      telemetry,
      replicas,
      messageId,
    });
    try {
      await engine.query({ name: 'messagedb_ping', text: 'SELECT 1' }, []);
    } catch (error) {
      await client.close().catch(() => {});
      throw fromConnectError(error, describeTarget(resolved));
    }
    // A replica that does not answer now is not an error: reads skip it, and it is checked again later.
    await client.#router?.probeAll();
    return client;
  }

  /**
   * Open an embedded database (PGlite) in this process: in memory, or in `dataDir`. Message DB is
   * installed (or verified) on open unless `install: false`.
   */
  static async embedded(config: EmbeddedConfig = {}): Promise<MessageDbClient> {
    const allowCondition = config.allowCondition === true;
    const messageId = resolveMessageId(config.messageId);
    const loadDataDir = resolveLoadDataDir(config);
    // Loaded here, not with the package: PGlite (tens of MB of WebAssembly) is for embedded() alone.
    const { PgliteEngine } = await import('../engine/pglite.js');
    const engine = await PgliteEngine.create({ dataDir: config.dataDir, loadDataDir, allowCondition });
    const target = config.dataDir === undefined ? 'pglite (in memory)' : `pglite (${config.dataDir})`;
    const client = new MessageDbClient({ engine, target, retry: resolveRetry(config.retry), allowCondition, telemetry: config, messageId });
    if (config.install !== false) {
      try {
        await client.install();
      } catch (error) {
        await engine.close().catch(() => {});
        throw error;
      }
    }
    return client;
  }

  /**
   * An embedded client's whole database as an uncompressed tarball, to open copies of with
   * `embedded({ loadDataDir })`. Other calls wait while it is taken. Embedded (PGlite) clients only.
   */
  async dumpDataDir(): Promise<Blob> {
    this.#assertOpen();
    const engine = this.#engine as Engine & { dumpDataDir?: () => Promise<Blob> };
    if (engine.dumpDataDir === undefined) throw new MessageDbError('dumpDataDir() is for embedded clients (MessageDbClient.embedded())', 'INVALID_ARGUMENT');
    return engine.dumpDataDir();
  }

  /** `postgres` or `pglite`. */
  get engine(): 'postgres' | 'pglite' {
    return this.#engine.kind;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Install Message DB 1.3.0 from `@eventide/message-db`, or verify an existing install. Idempotent. */
  install(): Promise<InstallResult> {
    this.#assertOpen();
    return install(this.#engine).then(
      (result) => {
        log(this.#telemetry?.logger, 'info', () => [{ event: 'install', ...result, target: this.#target }, `Message DB ${result.action}`]);
        return result;
      },
      (error: unknown) => {
        throw fromPostgresError(error);
      },
    );
  }

  /** The installed Message DB version (`message_store_version()`), e.g. `1.3.0`. */
  async messageStoreVersion(): Promise<string> {
    this.#assertOpen();
    const rows = await createRunner(this.#engine, undefined, () => this.#closed).run(sql.messageStoreVersion, []);
    return String(rows[0]?.[0]);
  }

  /**
   * Run `fn` in a transaction on one connection: commits when it returns, rolls back when it throws.
   * The handle has the client's write and read methods, and `tx.query(sql, params)` for your own SQL
   * in the same transaction. Not retried on connection loss (the callback may have side effects);
   * the connection is destroyed rather than pooled if it did not end cleanly. When
   * `options.signal` fires before COMMIT is sent, the transaction rolls back and rejects with
   * AbortError at once, and the callback's later statements fail with AbortError. On PGlite (one
   * connection), calling the client itself inside `fn` fails with WouldDeadlockError: use `tx`.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    this.#assertOpen();
    if (this.#router !== undefined) return this.#router.afterWrite(this.#transaction(fn, options));
    return this.#transaction(fn, options);
  }

  /**
   * Run your own SQL on the primary with bound parameters (`$1`, `$2`, ...), in a transaction of its
   * own. Resolves with the rows as `tx.query` gives them: objects keyed by column name, each value
   * the column's text as PostgreSQL prints it (or null), the same on both engines. Not retried on a
   * lost connection (the statement may have run), unless `readOnly`: then the transaction is READ
   * ONLY (the server refuses any write in it), and a lost connection is retried with the client's
   * `retry` backoff, as its reads are. Statements that must commit together, or with messages, go
   * through `transaction()` and `tx.query`.
   *
   * @example
   * const [row] = await client.query('SELECT count(*) AS n FROM message_store.messages WHERE type = $1', ['Deposited'])
   * console.log(Number(row?.n))
   */
  async query(sql: string, params: readonly unknown[] = [], options: ClientQueryOptions = {}): Promise<SqlRow[]> {
    this.#assertOpen();
    checkSql(sql, params);
    const { signal, readOnly = false } = options;
    if (!readOnly) return this.transaction((tx) => tx.query(sql, params, { signal }), { signal });
    const readOnlyQuery = async (tx: Transaction): Promise<SqlRow[]> => {
      await tx.query('SET TRANSACTION READ ONLY', [], { signal });
      return tx.query(sql, params, { signal });
    };
    for (let attempt = 1; ; attempt++) {
      try {
        // Not through transaction(): a read-only statement leaves no write for replicas to wait for.
        return await this.#transaction(readOnlyQuery, { signal });
      } catch (error) {
        if (!isConnectionError(error) || attempt >= this.#retry.maxAttempts || this.#closed || signal?.aborted) throw error;
        const closing = this.#closeController.signal;
        await sleep(backoffDelay(attempt, this.#retry), signal === undefined ? closing : AbortSignal.any([signal, closing])).catch((cause: unknown) => {
          throw closing.aborted && !signal?.aborted ? new ClosedError('MessageDbClient') : cause;
        });
      }
    }
  }

  async #transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions): Promise<T> {
    try {
      return await this.#engine.transaction(async (queryable) => {
        let finished = false;
        const guarded: Queryable = {
          query: (statement, values, queryOptions) =>
            finished ? Promise.reject(new ClosedError('Transaction')) : queryable.query(statement, values, queryOptions),
          exec: (script) => (finished ? Promise.reject(new ClosedError('Transaction')) : queryable.exec(script)),
        };
        const sql = (text: string, values: readonly unknown[], sqlOptions: { signal?: AbortSignal | undefined }) =>
          finished ? Promise.reject(new ClosedError('Transaction')) : queryable.sql(text, values, sqlOptions);
        const tx = new Transaction(
          createRunner(guarded, undefined, () => finished),
          this.#allowCondition,
          this.#telemetry,
          sql,
          this.#messageId,
        );
        try {
          return await fn(tx);
        } finally {
          finished = true;
        }
      }, options);
    } catch (error) {
      throw fromPostgresError(error);
    }
  }

  /**
   * Receive the NOTIFY payloads of `channel` until the returned function is called. On a server
   * this uses one connection of the client's own, outside the pool, that reconnects by itself;
   * `onNotification(null)` then says notifications may have been missed while it was away.
   */
  async listen(channel: string, onNotification: NotificationHandler): Promise<Unlisten> {
    this.#assertOpen();
    try {
      return await this.#engine.listen(validate.text('channel', channel), onNotification);
    } catch (error) {
      throw fromPostgresError(error);
    }
  }

  /**
   * The prom-client Registry holding this client's metrics: the one given as `metrics`, or the
   * client's own with `metrics: true`. Serve `await registry.metrics()` as `/metrics`.
   */
  metrics(): MetricsRegistry {
    const metrics = this.#telemetry?.metrics;
    if (metrics === undefined)
      throw new MessageDbError('Metrics are off: create the client with { metrics: true } or { metrics: registry }', 'INVALID_ARGUMENT');
    return metrics.registry;
  }

  /** @internal Fires when `close()` is called (consumers stop waiting for their handlers then). */
  get closeSignal(): AbortSignal {
    return this.#closeController.signal;
  }

  /** @internal The client's telemetry (consumers report through it). */
  get telemetry(): Telemetry | undefined {
    return this.#telemetry;
  }

  /** Pool occupancy: connections open, idle, and callers waiting for one. */
  poolStats(): PoolStats {
    return this.#engine.poolStats();
  }

  /**
   * The primary's WAL position after this client's newest write (or transaction), or null before
   * its first or when the client has no read replicas. Pass it as a read's `after` (in this process
   * or another) to read only where that write can be seen.
   */
  get writeToken(): WriteToken | null {
    return this.#router?.writeToken ?? null;
  }

  /**
   * The read replicas' state and lag (replicas that are up are asked now), and where this client's
   * reads went. A client without replicas reports none.
   */
  async replicaStats(): Promise<ReplicaSetStats> {
    this.#assertOpen();
    if (this.#router !== undefined) return this.#router.stats();
    return {
      writeToken: null,
      primaryPosition: null,
      readsOnReplicas: 0,
      readsOnPrimary: { requested: 0, unavailable: 0, lagging: 0, conflict: 0 },
      waits: 0,
      replicas: [],
    };
  }

  /** Close the pool (or PGlite), and the replicas' pools. Idempotent; later calls fail with ClosedError. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closeController.abort();
    this.#unwatchPool?.();
    this.#unwatchReplicas?.();
    this.#closing ??= Promise.all([this.#engine.close(), this.#router?.close()]).then(() => {});
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  override toString(): string {
    return `MessageDbClient(${this.#target})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('MessageDbClient');
  }
}
