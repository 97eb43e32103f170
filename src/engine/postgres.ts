/**
 * The postgres engine, on postgres.js' public API: its own small pool of postgres.js instances of
 * one connection each (postgres-connection.ts), so that it knows which connection runs what. A
 * statement goes to an idle connection, else to a new one while there are fewer than maxPoolSize,
 * else it is pipelined on the connection with the fewest statements in flight: concurrent callers
 * share round trips instead of queueing for a connection. A transaction holds a connection of its
 * own. A call given up (abort, or no answer within queryTimeoutMs) has its statement cancelled
 * and its connection closed, so nothing later runs on a session that a cancel may still hit.
 */
import { AbortError, ClosedError, PoolTimeoutError } from '../vocabulary/errors.js';
import { isConnectionFault } from '../vocabulary/postgres-error.js';
import type { Statement } from '../vocabulary/sql.js';
import { boundedCall } from './bounded-call.js';
import type { Engine, NotificationHandler, PoolStats, QueryOptions, TransactionQueryable, Unlisten } from './engine.js';
import { PostgresConnection } from './postgres-connection.js';
import { PostgresListener } from './postgres-listener.js';
import { postgresTarget, type PostgresEngineConfig, type PostgresTarget } from './postgres-options.js';
import { runTransaction, type TransactionConnection } from './postgres-transaction.js';
import { refusesSsl, sendCancelRequest } from './protocol-requests.js';
import { WaitQueue } from './wait-queue.js';

export type { PostgresEngineConfig } from './postgres-options.js';

/**
 * After abort(), how long a statement may take to end by the cancel (the server's answer says it
 * did not commit) before the caller gets AbortError anyway, as on a dead network.
 */
const abortGraceMs = 500;

/** A connection fault of a statement that shared its connection with one given up: safe to retry elsewhere. */
function connectionGivenUp(cause: unknown): Error {
  return Object.assign(new Error('The connection was closed after another call on it was given up and its statement cancelled', { cause }), {
    code: 'CONNECTION_DESTROYED',
  });
}

/** A statement that got no answer within queryTimeoutMs: the connection counts as lost. */
function readTimeout(timeoutMs: number): Error {
  return Object.assign(new Error(`The server did not answer within ${timeoutMs} ms (queryTimeoutMs)`), { code: 'QUERY_TIMEOUT' });
}

/** A connection that asked for SSL failed, and the server says it has none. */
function sslRefused(cause: unknown): Error {
  return Object.assign(new Error('The server does not support SSL connections', { cause }), { code: 'SSL_NOT_SUPPORTED' });
}

/** postgres.js connections behind the engine seam. */
export class PostgresEngine implements Engine {
  readonly kind = 'postgres' as const;
  readonly multipleConnections = true;
  onAcquireWait: ((seconds: number) => void) | undefined;
  readonly #config: PostgresEngineConfig;
  readonly #target: PostgresTarget;
  /** Open connections that take statements, least recently used first. */
  readonly #connections: PostgresConnection[] = [];
  /** Callers waiting for an idle connection (all are held by transactions, or others wait already). */
  readonly #waiting = new WaitQueue<PostgresConnection>();
  /** Connections being closed; awaited by close(). */
  readonly #ending = new Set<Promise<void>>();
  #listener: PostgresListener | undefined;
  #closed = false;

  constructor(config: PostgresEngineConfig) {
    this.#config = config;
    this.#target = postgresTarget(config);
  }

  async query<Row = unknown[]>(statement: Statement, values: readonly unknown[], options: QueryOptions<Row> = {}): Promise<Row[]> {
    const connection = await this.#acquire(options.signal, false);
    try {
      return await this.#run(connection, (c) => c.statement(statement.text, values, options.decode), options.signal);
    } finally {
      this.#release(connection);
    }
  }

  async exec(script: string): Promise<void> {
    const connection = await this.#acquire(undefined, false);
    try {
      await this.#run(connection, (c) => c.command(script), undefined);
    } finally {
      this.#release(connection);
    }
  }

  async transaction<T>(fn: (queryable: TransactionQueryable) => Promise<T>, options: QueryOptions = {}): Promise<T> {
    const connection = await this.#acquire(options.signal, true);
    const transactional: TransactionConnection = {
      statement: (statement, values, { signal, decode }) => this.#run(connection, (c) => c.statement(statement.text, values, decode), signal),
      command: (text, signal) => this.#run(connection, (c) => c.command(text), signal),
      sql: (text, values, signal) => this.#run(connection, (c) => c.sql(text, values), signal),
      get abandoned() {
        return connection.givenUp;
      },
    };
    return runTransaction(transactional, fn, options.signal, (reusable) => {
      connection.reserved = false;
      if (!reusable) this.#retire(connection, 0);
      this.#release(connection);
    });
  }

  get maxConnections(): number {
    return this.#config.maxPoolSize;
  }

  poolStats(): PoolStats {
    let idle = 0;
    for (const connection of this.#connections) if (connection.users === 0) idle++;
    return { total: this.#connections.length, idle, waiting: this.#waiting.length };
  }

  listen(channel: string, onNotification: NotificationHandler): Promise<Unlisten> {
    if (this.#closed) return Promise.reject(new ClosedError('MessageDbClient'));
    this.#listener ??= new PostgresListener(this.#target.options);
    return this.#listener.listen(channel, onNotification);
  }

  /**
   * Callers still waiting for a connection fail with ClosedError at once; statements already sent
   * finish (or fail, at the latest after queryTimeoutMs), and their connections are then closed.
   * Resolves once every connection is closed.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#waiting.rejectAll(() => new ClosedError('MessageDbClient'));
    for (const connection of this.#connections.splice(0)) this.#track(connection.endWhenIdle());
    await Promise.all([...this.#ending, this.#listener?.close()]);
  }

  /**
   * A connection for a statement (`exclusive` false) or a transaction: an idle one (the most
   * recently used: its backend is awake), else a new one below maxPoolSize, else, for a statement,
   * the open one with the fewest statements in flight (pipelined there). A caller that finds none
   * waits, first come first served, for one to be idle, at most connectTimeoutMs (PoolTimeoutError).
   */
  async #acquire(signal: AbortSignal | undefined, exclusive: boolean): Promise<PostgresConnection> {
    if (this.#closed) throw new ClosedError('MessageDbClient');
    if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    const pipelined = !exclusive && this.#config.pipelining;
    let connection = this.#waiting.length > 0 ? undefined : (this.#idle() ?? this.#open() ?? (pipelined ? this.#leastBusy() : undefined));
    if (connection !== undefined) {
      connection.users++;
      this.onAcquireWait?.(0);
    } else {
      const started = performance.now();
      const timeoutMs = this.#config.connectTimeoutMs;
      connection = await this.#waiting.wait(signal, timeoutMs, () => new PoolTimeoutError(timeoutMs));
      this.onAcquireWait?.((performance.now() - started) / 1000);
    }
    connection.reserved = exclusive;
    return connection;
  }

  #idle(): PostgresConnection | undefined {
    for (let index = this.#connections.length - 1; index >= 0; index--) {
      const connection = this.#connections[index] as PostgresConnection;
      if (connection.users === 0) return connection;
    }
    return undefined;
  }

  #open(): PostgresConnection | undefined {
    if (this.#connections.length >= this.#config.maxPoolSize) return undefined;
    const connection = new PostgresConnection(this.#target, (closed) => this.#retire(closed, 0));
    this.#connections.push(connection);
    return connection;
  }

  #leastBusy(): PostgresConnection | undefined {
    let least: PostgresConnection | undefined;
    for (const connection of this.#connections) {
      if (!connection.reserved && (least === undefined || connection.users < least.users)) least = connection;
    }
    return least;
  }

  /** A caller is done with `connection`: the longest waiting caller gets it once it is idle. */
  #release(connection: PostgresConnection): void {
    connection.release();
    const index = this.#connections.indexOf(connection);
    if (index >= 0 && connection.users === 0) {
      // Most recently used last.
      this.#connections.splice(index, 1);
      this.#connections.push(connection);
    }
    this.#serveWaiting();
  }

  #serveWaiting(): void {
    while (this.#waiting.length > 0 && !this.#closed) {
      const connection = this.#idle() ?? this.#open();
      if (connection === undefined) return;
      connection.users++;
      // Until the waiter takes it (a tick later), nothing is pipelined on it: it may be for a transaction.
      connection.reserved = true;
      if (!this.#waiting.hand(connection)) {
        connection.users--;
        connection.reserved = false;
        return;
      }
    }
  }

  /** Take `connection` out of service and close it, after its statements end or `timeoutMs` at the latest. */
  #retire(connection: PostgresConnection, timeoutMs: number): void {
    const index = this.#connections.indexOf(connection);
    if (index < 0) return;
    this.#connections.splice(index, 1);
    this.#track(connection.end(timeoutMs));
    // Its place may be taken by a new connection for a waiting caller.
    this.#serveWaiting();
  }

  #track(ending: Promise<void>): void {
    this.#ending.add(ending);
    void ending.then(() => this.#ending.delete(ending));
  }

  /**
   * Give up the call on `connection`: send a cancel for what its session runs and close it, so
   * that nothing later runs on a session the cancel may still hit. Statements pipelined behind on
   * it end (by the cancel, or when it closes) with a connection fault, which is retried.
   */
  #giveUp(connection: PostgresConnection, why: 'abort' | 'timeout'): void {
    if (connection.givenUp) return;
    connection.givenUp = true;
    const backend = connection.backend;
    if (backend !== undefined) void sendCancelRequest(this.#target.address, backend, this.#config.connectTimeoutMs);
    this.#retire(connection, why === 'abort' ? abortGraceMs : 0);
  }

  /**
   * `send` on `connection`, bounded: the caller's signal, or no answer within queryTimeoutMs, gives
   * the call up (#giveUp). An aborted call still ends by the cancel if that comes within
   * abortGraceMs; a timed-out one fails with a connection fault, which the runner retries on
   * another connection. A connection whose statement failed with a connection fault is closed.
   */
  async #run<T>(connection: PostgresConnection, send: (connection: PostgresConnection) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    if (connection.givenUp) throw connectionGivenUp(undefined);
    const timeoutMs = this.#config.queryTimeoutMs;
    let gaveUp = false;
    try {
      return await boundedCall(send(connection), {
        signal,
        timeoutMs,
        timeoutError: () => readTimeout(timeoutMs),
        abortGraceMs,
        onAbandon: (why) => {
          gaveUp = true;
          this.#giveUp(connection, why);
        },
      });
    } catch (error) {
      if (gaveUp || error instanceof AbortError) throw error;
      // Another call on this connection was given up, and its cancel reached this statement instead.
      if (connection.givenUp && (error as { code?: unknown }).code === '57014') throw connectionGivenUp(error);
      if (isConnectionFault(error)) {
        this.#retire(connection, 0);
        if (this.#target.ssl && connection.backend === undefined && (await refusesSsl(this.#target.address, this.#config.connectTimeoutMs))) {
          throw sslRefused(error);
        }
      }
      throw error;
    }
  }
}
