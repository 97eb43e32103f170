/**
 * The node-postgres engine: a pool whose connections start with `search_path = message_store,
 * public` (in the startup packet, so no extra round trip), ISO dates, and an application_name.
 * Statements are prepared once per connection by name; every column comes back as text.
 */
import pg from 'pg';
import { AbortError, ClosedError, InvalidArgumentError, PoolTimeoutError } from '../vocabulary/errors.js';
import { isConnectionFault } from '../vocabulary/postgres-error.js';
import type { Statement } from '../vocabulary/sql.js';
import { boundedCall } from './bounded-call.js';
import type { Engine, NotificationHandler, PoolStats, QueryOptions, TransactionQueryable, Unlisten } from './engine.js';
import { PostgresListener } from './postgres-listener.js';
import { runTransaction, type TransactionConnection } from './postgres-transaction.js';
import { startupOptionsFor } from './startup-options.js';
import { statementQuery } from './statement-query.js';
import { WaitQueue } from './wait-queue.js';
import { takeOverRows } from './wire-rows.js';

/** What the postgres engine needs, already resolved from the caller's config. */
export interface PostgresEngineConfig {
  connectionString: string | undefined;
  maxPoolSize: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number | undefined;
  /** How long the client waits for the server's answer to one statement before it gives the connection up as lost. */
  queryTimeoutMs: number;
  /** TCP keepalive: idle time before the first probe (the operating system's probes then find a dead peer). */
  keepAliveInitialDelayMs: number;
  applicationName: string;
  allowCondition: boolean;
  preparedStatements: boolean;
}

/**
 * Connections on which a call was given up (aborted, or no answer within queryTimeoutMs), and a
 * cancel sent. The statement may still be running, and pg_cancel_backend cancels whatever the
 * backend runs when it arrives, which may be a later caller's statement, so such a connection is
 * destroyed, never pooled again.
 */
const abandoned = new WeakSet<pg.PoolClient>();

/**
 * After abort(), how long a statement may take to end by the cancel (the server's answer says it
 * did not commit) before the caller gets AbortError anyway, as on a dead network.
 */
const abortGraceMs = 500;

/** How long connections the engine finished with wait for the next call before they go back to the pool. */
const readyLingerMs = 1000;

/**
 * The connection string (without its `options`) and the startup options every connection of the
 * engine, pooled or listening, is opened with: the user's options merged with the client's
 * (startup-options.ts). Passed as `options`, the merged text would lose to the connection
 * string's own `options` in node-postgres, hence the connection string without it.
 */
function startupOptions(config: PostgresEngineConfig): { connectionString: string | undefined; options: string } {
  return startupOptionsFor(config.connectionString, config.allowCondition);
}

/**
 * Read the target the way node-postgres will (a client object parses it; nothing connects), so a
 * malformed one fails now with a typed error. At connect, a port that is not a number throws where
 * no timeout ever ends the wait.
 */
function checkTarget(config: PostgresEngineConfig): void {
  const argument = config.connectionString === undefined ? 'PGPORT' : 'connectionString';
  let port: number;
  try {
    port = new pg.Client({ connectionString: config.connectionString }).port;
  } catch (error) {
    // node-postgres redacts the connection string from its URL errors; this message names none either.
    throw new InvalidArgumentError('connectionString', 'is not a valid postgres:// URL', { cause: error });
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(argument, 'has a port that is not a number from 1 to 65535');
}

/** node-postgres pool behind the engine seam. */
export class PostgresEngine implements Engine {
  readonly kind = 'postgres' as const;
  readonly multipleConnections = true;
  onAcquireWait: ((seconds: number) => void) | undefined;
  readonly #pool: pg.Pool;
  readonly #config: PostgresEngineConfig;
  #listener: PostgresListener | undefined;
  /**
   * Connections this engine finished with and has not given back to the pool yet: the next call
   * takes one from here. node-postgres' pool arms a timer each time a connection is checked out
   * (the acquire timeout) and each time it comes back (the idle timeout), and hands it over
   * through a promise and a tick. Five A/Bs of single writes on PostgreSQL 15 (the compiled client
   * with and without this in one process, 130 alternating rounds of 50 writes): 8-16 µs less CPU
   * and 1-35 µs less wall time a write. They go back to the pool at most `readyLingerMs` after
   * they were finished with (all together, on one timer), so its idle timeout still closes
   * connections left unused; at once to a caller waiting for one; and one that fails or ends
   * meanwhile goes back at once, with its error, and is never handed out. Last in, first out, as
   * in node-postgres' pool: back-to-back calls keep using one backend, which is still awake (handed
   * out oldest first, a consumer's position writes took turns on two backends and ran slower).
   */
  readonly #ready: pg.PoolClient[] = [];
  #giveBack: NodeJS.Timeout | undefined;
  /**
   * Connections checked out of node-postgres' pool: running a call, ready, or being opened. Never
   * more than maxPoolSize, so that pool never queues a caller (its queue ignores signals and close,
   * and keeps a waiter until its timeout): callers wait here, in #waiting, and are handed a
   * connection as one is finished with, or `undefined`, a slot to open one.
   */
  #held = 0;
  readonly #waiting = new WaitQueue<pg.PoolClient | undefined>();
  /** Connections sending a cancel; ended at close, so none keeps the process alive. */
  readonly #cancellers = new Set<pg.Client>();
  #closed = false;

  constructor(config: PostgresEngineConfig) {
    checkTarget(config);
    this.#config = config;
    this.#pool = new pg.Pool({
      ...startupOptions(config),
      max: config.maxPoolSize,
      connectionTimeoutMillis: config.connectTimeoutMs,
      idleTimeoutMillis: config.idleTimeoutMs,
      application_name: config.applicationName,
      // A peer that vanished (a dead router, a frozen proxy) is found by the operating system's
      // probes; queryTimeoutMs (#bound) ends the wait of a call meanwhile.
      keepAlive: true,
      keepAliveInitialDelayMillis: config.keepAliveInitialDelayMs,
      ...(config.statementTimeoutMs === undefined ? {} : { statement_timeout: config.statementTimeoutMs }),
    });
    // An idle pooled connection whose backend is terminated emits 'error'; the pool drops it and the
    // next acquire opens a fresh one. Without a listener, Node would crash the process.
    this.#pool.on('error', () => {});
    // A checked-out connection that dies emits 'error' besides failing its query; the query's
    // rejection is what reports it. One this engine keeps ready between calls goes back to the
    // pool with the error, or when it ends (#dropReady). The listener is attached as the
    // connection opens: the server's termination notice can arrive in the same read as the end of
    // the handshake, after the pool removed its own listener and before the caller gets the client.
    this.#pool.on('connect', (client) => {
      client.on('error', (error: Error) => this.#dropReady(client, error));
      client.on('end', () => this.#dropReady(client, new Error('the connection ended')));
      // Rows of statements with a decoder come straight off the socket from now on (wire-rows.ts).
      takeOverRows((client as unknown as { connection: object }).connection);
    });
  }

  async query<Row = unknown[]>(statement: Statement, values: readonly unknown[], options: QueryOptions<Row> = {}): Promise<Row[]> {
    const client = await this.#acquire(options.signal);
    let failure: unknown;
    try {
      return await this.#run(client, statement, values, options);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      this.#release(client, brokenBy(client, failure));
    }
  }

  async exec(script: string): Promise<void> {
    const client = await this.#acquire(undefined);
    let failure: unknown;
    try {
      await this.#bound(client, client.query(script), undefined);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      this.#release(client, brokenBy(client, failure));
    }
  }

  async transaction<T>(fn: (queryable: TransactionQueryable) => Promise<T>, options: QueryOptions = {}): Promise<T> {
    const client = await this.#acquire(options.signal);
    const connection: TransactionConnection = {
      client,
      run: (statement, values, queryOptions) => this.#run(client, statement, values, queryOptions),
      bound: (work, signal) => this.#bound(client, work, signal),
      get abandoned() {
        return abandoned.has(client);
      },
    };
    return runTransaction(connection, fn, options.signal, (reusable) =>
      this.#release(client, reusable ? undefined : new Error('transaction did not finish cleanly')),
    );
  }

  get maxConnections(): number {
    return this.#config.maxPoolSize;
  }

  poolStats(): PoolStats {
    return {
      total: this.#pool.totalCount,
      idle: this.#pool.idleCount + this.#ready.length,
      waiting: this.#waiting.length + this.#pool.waitingCount,
    };
  }

  listen(channel: string, onNotification: NotificationHandler): Promise<Unlisten> {
    this.#listener ??= new PostgresListener({
      ...startupOptions(this.#config),
      application_name: this.#config.applicationName,
      connectionTimeoutMillis: this.#config.connectTimeoutMs,
      keepAliveInitialDelayMillis: this.#config.keepAliveInitialDelayMs,
    });
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
    this.#giveBackReady();
    for (const canceller of this.#cancellers) void canceller.end().catch(() => {});
    await Promise.all([this.#pool.end(), this.#listener?.close()]);
  }

  /**
   * Stop what `client`'s backend runs (pg_cancel_backend, on a connection of its own: with the pool
   * full, a pooled one would wait for the very statement it is meant to stop), and mark `client`
   * so that it is destroyed when released.
   */
  #abandon(client: pg.PoolClient): void {
    if (abandoned.has(client)) return;
    abandoned.add(client);
    const processId = (client as unknown as { processID?: number }).processID;
    if (processId === undefined || this.#closed) return;
    const canceller = new pg.Client({
      connectionString: this.#config.connectionString,
      application_name: this.#config.applicationName,
      connectionTimeoutMillis: this.#config.connectTimeoutMs,
    });
    canceller.on('error', () => {});
    this.#cancellers.add(canceller);
    canceller
      .connect()
      .then(() => canceller.query('SELECT pg_cancel_backend($1)', [processId]))
      // Not cancelled (the server is unreachable): the destroyed connection ends the session when it can.
      .catch(() => {})
      .finally(() => {
        this.#cancellers.delete(canceller);
        void canceller.end().catch(() => {});
      });
  }

  /**
   * `work` on `client`, bounded: the caller's signal, or no answer within queryTimeoutMs, gives the
   * call up (#abandon). An aborted call still ends by the cancel if that comes within abortGraceMs;
   * a timed-out one fails with a connection fault, which the runner retries on another connection.
   */
  #bound<T>(client: pg.PoolClient, work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const timeoutMs = this.#config.queryTimeoutMs;
    return boundedCall(work, {
      signal,
      timeoutMs,
      timeoutError: () => new Error(`Query read timeout: the server did not answer within ${timeoutMs} ms (queryTimeoutMs)`),
      abortGraceMs,
      onAbandon: () => this.#abandon(client),
    });
  }

  /** A connection this engine is done with: handed to a waiting caller, kept ready, or (`broken`, or after close) closed. */
  #release(client: pg.PoolClient, broken: Error | undefined): void {
    if (broken !== undefined || this.#closed) {
      client.release(broken);
      this.#held--;
      this.#serveWaiting();
      return;
    }
    if (this.#waiting.hand(client)) return;
    this.#ready.push(client);
    this.#giveBack ??= setTimeout(() => this.#giveBackReady(), readyLingerMs).unref();
  }

  /** A connection was closed: the longest waiting caller may open one in its place. */
  #serveWaiting(): void {
    while (this.#held < this.#config.maxPoolSize && this.#waiting.length > 0) {
      this.#held++;
      this.#waiting.hand(undefined);
    }
  }

  #giveBackReady(): void {
    clearTimeout(this.#giveBack);
    this.#giveBack = undefined;
    for (const client of this.#ready.splice(0)) {
      client.release();
      this.#held--;
    }
  }

  /** A ready connection failed or ended (a terminated backend, a lost network): the pool closes it. */
  #dropReady(client: pg.PoolClient, error: Error): void {
    const index = this.#ready.indexOf(client);
    if (index < 0) return;
    this.#ready.splice(index, 1);
    client.release(error);
    this.#held--;
    this.#serveWaiting();
  }

  async #acquire(signal: AbortSignal | undefined): Promise<pg.PoolClient> {
    if (this.#closed) throw new ClosedError('MessageDbClient');
    if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    const ready = this.#ready.pop();
    if (ready !== undefined) {
      this.onAcquireWait?.(0);
      return ready;
    }
    const started = this.onAcquireWait === undefined ? 0 : performance.now();
    let client: pg.PoolClient | undefined;
    if (this.#held < this.#config.maxPoolSize && this.#waiting.length === 0) {
      this.#held++;
    } else {
      const timeoutMs = this.#config.connectTimeoutMs;
      client = await this.#waiting.wait(signal, timeoutMs, () => new PoolTimeoutError(timeoutMs));
    }
    if (client === undefined) {
      client = await this.#connect(signal);
    } else if (signal?.aborted) {
      // Aborted in the tick between being handed a connection and taking it.
      this.#release(client, undefined);
      throw new AbortError({ cause: signal.reason });
    }
    this.onAcquireWait?.((performance.now() - started) / 1000);
    return client;
  }

  /** Open (or take from the pool) the connection this caller holds a slot for. */
  #connect(signal: AbortSignal | undefined): Promise<pg.PoolClient> {
    const connecting = this.#pool.connect().catch((error: unknown) => {
      this.#held--;
      this.#serveWaiting();
      if (this.#closed) throw new ClosedError('MessageDbClient');
      if (error instanceof Error && error.message === 'timeout exceeded when trying to connect') {
        throw new PoolTimeoutError(this.#config.connectTimeoutMs, { cause: error });
      }
      throw error;
    });
    // An abort while connecting: the connection, once open, serves the next caller.
    return boundedCall(connecting, { signal, onAbandon: () => void connecting.then((client) => this.#release(client, undefined), () => {}) });
  }

  #run<Row>(client: pg.PoolClient, statement: Statement, values: readonly unknown[], { signal, decode }: QueryOptions<Row> = {}): Promise<Row[]> {
    if (signal?.aborted) return Promise.reject(new AbortError({ cause: signal.reason }));
    const name = this.#config.preparedStatements ? statement.name : undefined;
    return this.#bound(client, statementQuery(client, statement.text, name, values as unknown[], decode), signal);
  }
}

/** Why `client` must be closed rather than reused after a call that ended with `failure` (if any). */
function brokenBy(client: pg.PoolClient, failure: unknown): Error | undefined {
  if (abandoned.has(client)) return new Error('a call on this connection was given up, and a cancel sent');
  return failure !== undefined && isConnectionFault(failure) ? (failure as Error) : undefined;
}
