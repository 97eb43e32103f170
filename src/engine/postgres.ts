/**
 * The node-postgres engine: a pool whose connections start with `search_path = message_store,
 * public` (in the startup packet, so no extra round trip), ISO dates, and an application_name.
 * Statements are prepared once per connection by name; every column comes back as text.
 */
import pg from 'pg';
import { AbortError, InvalidArgumentError, PoolTimeoutError, TransactionRolledBackError } from '../errors.js';
import { isConnectionFault } from '../postgres-error.js';
import type { Statement } from '../sql.js';
import type { Engine, NotificationHandler, PoolStats, QueryOptions, Queryable, RowDecoder, Unlisten } from './engine.js';
import { ArrayColumns, type Columns } from '../message.js';
import { PostgresListener } from './postgres-listener.js';
import { startupOptionsFor } from './startup-options.js';
import { receiveRows, takeOverRows, type WireRowReader } from './wire-rows.js';

/** What the postgres engine needs, already resolved from the caller's config. */
export interface PostgresEngineConfig {
  connectionString: string | undefined;
  maxPoolSize: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number | undefined;
  applicationName: string;
  allowCondition: boolean;
  preparedStatements: boolean;
}

/**
 * Connections a cancel was sent to. pg_cancel_backend cancels whatever the backend runs when it
 * arrives, which may be a later caller's statement once the aborted one has finished, so such a
 * connection is closed, never pooled again.
 */
const cancelled = new WeakSet<pg.PoolClient>();

/** The part of node-postgres' DataRow message a statement query reads: the row's column text. */
interface DataRow {
  fields: unknown[];
}

/** What a statement query uses of node-postgres' connection, which its typings leave out. */
interface ProtocolConnection {
  parsedStatements: Record<string, unknown>;
  submittedNamedStatements: Record<string, unknown>;
  parse(message: { text: string; name?: string | undefined }): void;
  bind(message: { statement?: string | undefined; values: unknown[]; valueMapper: (value: unknown) => unknown }): void;
  close(message: { type: 'S'; name?: string | undefined }): void;
  sync(): void;
}

/** How long connections the engine finished with wait for the next call before they go back to the pool. */
const readyLingerMs = 1000;

/** node-postgres' own conversion of a JavaScript value to parameter text (arrays, Dates, Buffers, ...). */
const prepareValue = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils.prepareValue;

/**
 * How this engine runs a statement: a node-postgres Submittable that
 * - decodes each row as it arrives, instead of letting node-postgres copy it into a row array that
 *   is kept until the last row arrived and then decoded: one array less per row, and the column
 *   text dies young. Measured on category reads of 1000 messages: 2.4 -> 1.6 µs of CPU per
 *   message, 20 % more messages a second. With a decoder, the rows come straight off the wire
 *   (wire-rows.ts) on a connection taken over at its start; without one, or where that was not
 *   possible, from node-postgres' parser. A decoder that throws fails the query the way
 *   node-postgres fails it for a row it cannot parse.
 * - sends Bind / Execute / Sync without the Describe node-postgres puts before Execute. Describe
 *   makes the server send a RowDescription with every execution, and node-postgres then builds a
 *   row template and a parser per column each time; rows here are decoded by position, so the
 *   description is never needed. Parse (once per connection for a named statement, every time for
 *   an unnamed one), Bind and the error path are node-postgres' own. With the copy node-postgres
 *   makes of a query config object (see the constructor), about 10 µs of CPU a single write.
 * A statement with neither a name nor values (`preparedStatements: false`, no parameters) goes out
 * as a simple query, the way node-postgres sends it; its RowDescription is simply not needed.
 */
class StatementQuery<Row> extends pg.Query implements WireRowReader {
  /** (Not `rows`: node-postgres' Query reads that as the portal's row limit.) */
  readonly decoded: Row[] = [];
  /** Without one, the rows are node-postgres' arrays of column text. */
  readonly #decode: RowDecoder<Row> | undefined;
  #columns: ArrayColumns | undefined;

  /**
   * Built from the text, not a config object: node-postgres copies a config object property by
   * property (4 µs a statement); the statement's name, if any, is set afterwards.
   */
  constructor(text: string, name: string | undefined, values: unknown[], decode: RowDecoder<Row> | undefined, done: (error: Error | undefined) => void) {
    super(text, values, done);
    if (name !== undefined) (this as unknown as { name: string }).name = name;
    this.#decode = decode;
  }

  /** A row node-postgres parsed. */
  handleDataRow(message: DataRow): void {
    if (this.#decode === undefined) {
      if (!(this as unknown as CancelledQuery)._canceledDueToError) this.decoded.push(message.fields as Row);
      return;
    }
    this.readRow((this.#columns ??= new ArrayColumns()).over(message.fields));
  }

  /** A row to decode, off the wire or from node-postgres' parser. */
  readRow(columns: Columns): void {
    const query = this as unknown as CancelledQuery;
    if (query._canceledDueToError || this.#decode === undefined) return;
    try {
      this.decoded.push(this.#decode(columns));
    } catch (error) {
      query._canceledDueToError = error;
    }
  }

  /** node-postgres' `Query.prepare` less the Describe (see the class comment). */
  prepare(connection: ProtocolConnection): void {
    const query = this as unknown as {
      text: string;
      name: string | undefined;
      values: unknown[];
      hasBeenParsed(connection: ProtocolConnection): boolean;
      handleError(error: unknown, connection: ProtocolConnection): void;
      _getRows(connection: ProtocolConnection, rows: undefined): void;
    };
    if (!query.hasBeenParsed(connection)) {
      connection.parse({ text: query.text, name: query.name });
      if (query.name) connection.submittedNamedStatements[query.name] = query.text;
    }
    try {
      connection.bind({ statement: query.name, values: query.values, valueMapper: prepareValue });
    } catch (error) {
      // A value node-postgres cannot convert: close the statement it may just have parsed.
      connection.close({ type: 'S', name: query.name });
      connection.sync();
      query.handleError(error, connection);
      return;
    }
    if (this.#decode !== undefined) receiveRows(connection, this);
    query._getRows(connection, undefined);
  }
}

/** Where node-postgres' Query keeps the error that ends it once its rows stop being read. */
interface CancelledQuery {
  _canceledDueToError: unknown;
}

/** Run the statement `text` (prepared as `name`, if given) on `client`, decoding each row as it arrives. */
function statementQuery<Row>(client: pg.PoolClient, text: string, name: string | undefined, values: unknown[], decode: RowDecoder<Row> | undefined): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const query: StatementQuery<Row> = new StatementQuery(text, name, values, decode, (error) => (error ? reject(error) : resolve(query.decoded)));
    client.query(query);
  });
}

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
   * connections left unused; at once when a caller waits in the pool; and one that fails or ends
   * meanwhile goes back at once, with its error, and is never handed out. Last in, first out, as
   * in node-postgres' pool: back-to-back calls keep using one backend, which is still awake (handed
   * out oldest first, a consumer's position writes took turns on two backends and ran slower).
   */
  readonly #ready: pg.PoolClient[] = [];
  #giveBack: NodeJS.Timeout | undefined;
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
      ...(config.statementTimeoutMs === undefined
        ? {}
        : {
            statement_timeout: config.statementTimeoutMs,
            // A server that stopped answering (a dead network) never cancels anything: past the
            // statement timeout plus the connect timeout, the client gives up on the connection.
            query_timeout: config.statementTimeoutMs + config.connectTimeoutMs,
          }),
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
      const lost = failure !== undefined && isConnectionFault(failure);
      this.#release(client, lost ? (failure as Error) : cancelled.has(client) ? new Error('a cancel was sent to this connection') : undefined);
    }
  }

  async exec(script: string): Promise<void> {
    await this.#pool.query(script);
  }

  async transaction<T>(fn: (queryable: Queryable) => Promise<T>, options: QueryOptions = {}): Promise<T> {
    const client = await this.#acquire(options.signal);
    // A connection goes back to the pool only after COMMIT or ROLLBACK succeeded; otherwise it is
    // destroyed, so no later caller can inherit an open transaction.
    let reusable = false;
    let failure: { error: unknown } | undefined;
    const noteFailure = (error: unknown): never => {
      failure ??= { error };
      throw error;
    };
    try {
      await client.query('BEGIN');
      const queryable: Queryable = {
        query: (statement, values, queryOptions) => this.#run(client, statement, values, queryOptions).catch(noteFailure),
        exec: async (script) => {
          await client.query(script).catch(noteFailure);
        },
      };
      let result: T;
      try {
        result = await fn(queryable);
      } catch (error) {
        reusable = await client.query('ROLLBACK').then(() => true, () => false);
        throw error;
      }
      const commit = await client.query('COMMIT');
      reusable = true;
      // COMMIT of a transaction that a failed statement aborted succeeds as a ROLLBACK: the
      // callback swallowed that failure, but its writes are gone and the caller must know.
      if (commit.command === 'ROLLBACK') throw new TransactionRolledBackError({ cause: failure?.error });
      return result;
    } finally {
      this.#release(client, reusable && !cancelled.has(client) ? undefined : new Error('transaction did not finish cleanly'));
    }
  }

  get maxConnections(): number {
    return this.#config.maxPoolSize;
  }

  poolStats(): PoolStats {
    return { total: this.#pool.totalCount, idle: this.#pool.idleCount + this.#ready.length, waiting: this.#pool.waitingCount };
  }

  listen(channel: string, onNotification: NotificationHandler): Promise<Unlisten> {
    this.#listener ??= new PostgresListener({
      ...startupOptions(this.#config),
      application_name: this.#config.applicationName,
      connectionTimeoutMillis: this.#config.connectTimeoutMs,
    });
    return this.#listener.listen(channel, onNotification);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#giveBackReady();
    await Promise.all([this.#pool.end(), this.#listener?.close()]);
  }

  async #cancelBackend(processId: number): Promise<void> {
    const canceller = new pg.Client({
      connectionString: this.#config.connectionString,
      application_name: this.#config.applicationName,
      connectionTimeoutMillis: this.#config.connectTimeoutMs,
    });
    canceller.on('error', () => {});
    try {
      await canceller.connect();
      await canceller.query('SELECT pg_cancel_backend($1)', [processId]);
    } catch {
      // Not cancelled: the caller's AbortError comes when the statement ends (or hits statementTimeoutMs).
    } finally {
      await canceller.end().catch(() => {});
    }
  }

  /** A connection this engine is done with: kept ready for the next call, or given back to the pool (with `error`: closed). */
  #release(client: pg.PoolClient, error: Error | undefined): void {
    // A caller waiting in the pool (every connection was busy) gets this one at once.
    if (error !== undefined || this.#closed || this.#pool.waitingCount > 0) {
      client.release(error);
      return;
    }
    this.#ready.push(client);
    this.#giveBack ??= setTimeout(() => this.#giveBackReady(), readyLingerMs).unref();
  }

  #giveBackReady(): void {
    clearTimeout(this.#giveBack);
    this.#giveBack = undefined;
    for (const client of this.#ready.splice(0)) client.release();
  }

  /** A ready connection failed or ended (a terminated backend, a lost network): the pool closes it. */
  #dropReady(client: pg.PoolClient, error: Error): void {
    const index = this.#ready.indexOf(client);
    if (index < 0) return;
    this.#ready.splice(index, 1);
    client.release(error);
  }

  async #acquire(signal: AbortSignal | undefined): Promise<pg.PoolClient> {
    if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    const ready = this.#ready.pop();
    if (ready !== undefined) {
      this.onAcquireWait?.(0);
      return ready;
    }
    const started = this.onAcquireWait === undefined ? 0 : performance.now();
    try {
      const client = await this.#pool.connect();
      this.onAcquireWait?.((performance.now() - started) / 1000);
      return client;
    } catch (error) {
      if (error instanceof Error && error.message === 'timeout exceeded when trying to connect') {
        throw new PoolTimeoutError(this.#config.connectTimeoutMs, { cause: error });
      }
      throw error;
    }
  }

  async #run<Row>(client: pg.PoolClient, statement: Statement, values: readonly unknown[], { signal, decode }: QueryOptions<Row> = {}): Promise<Row[]> {
    if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    const name = this.#config.preparedStatements ? statement.name : undefined;
    const submit = (): Promise<Row[]> => statementQuery(client, statement.text, name, values as unknown[], decode);
    if (signal === undefined) return submit();

    // Abort cancels the statement server-side (pg_cancel_backend on another connection), so nothing
    // keeps running after the caller gave up; this connection is then closed (see `cancelled`). The
    // cancelling connection is not a pooled one: with the pool full (the statement may hold its last
    // connection), the cancel would wait for the very statement it is meant to stop.
    const processId = (client as unknown as { processID?: number }).processID;
    const cancel = (): void => {
      if (processId === undefined) return;
      cancelled.add(client);
      void this.#cancelBackend(processId);
    };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return await submit();
    } catch (error) {
      if (signal.aborted) throw new AbortError({ cause: error });
      throw error;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
}
