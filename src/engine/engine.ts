/**
 * The seam between the client and a database engine. An engine runs one statement and hands back
 * rows as arrays of column text (or null), or what the client's decoder makes of each row, read
 * column by column; decoding is the client's job, so both engines decode identically. Lifecycle
 * rules (closed checks, retries, error translation) live in the client.
 */
import type { Columns } from '../vocabulary/message.js';
import type { Statement } from '../vocabulary/sql.js';

/** Turns one row, read column by column, into a value, e.g. a Message. */
export type RowDecoder<Row> = (columns: Columns) => Row;

/** Per-call options every engine understands. */
export interface QueryOptions<Row = unknown[]> {
  signal?: AbortSignal | undefined;
  /**
   * Decode each row: the query resolves with what this returns. The postgres engine decodes a row
   * as it arrives, so no array of raw rows is built and kept until the last one; a decoder that
   * throws fails the query with that error.
   */
  decode?: RowDecoder<Row> | undefined;
}

/** Anything that can run a statement: an engine, or a transaction on one of its connections. */
export interface Queryable {
  /** Run one statement with bound values; rows come back as arrays of column text or null, or decoded. */
  query<Row = unknown[]>(statement: Statement, values: readonly unknown[], options?: QueryOptions<Row>): Promise<Row[]>;
  /** Run a multi-statement SQL script (simple protocol, no parameters): the installer's files. */
  exec(script: string): Promise<void>;
}

/** A row of the caller's own SQL: each column's text (or null), by column name. */
export type SqlRow = Record<string, string | null>;

/** A transaction's connection: Message DB's statements, and the caller's own SQL. */
export interface TransactionQueryable extends Queryable {
  /** Run the caller's own SQL with bound parameters (`$1`, `$2`, ...) in the transaction. */
  sql(text: string, values: readonly unknown[], options?: { signal?: AbortSignal | undefined }): Promise<SqlRow[]>;
}

/** Pool occupancy (PGlite reports its one connection). */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * Called with each NOTIFY payload on a channel, in order; with `null` after the listening
 * connection was lost and restored, when notifications may have been missed.
 */
export type NotificationHandler = (payload: string | null) => void;

/** Stops one `listen()` subscription. */
export type Unlisten = () => Promise<void>;

/** A database engine: postgres.js against a server, or PGlite in-process. */
export interface Engine extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** False for PGlite: one session, so no lock contention and no parallel transactions. */
  readonly multipleConnections: boolean;
  /**
   * Run `fn` inside BEGIN/COMMIT on one connection; ROLLBACK when it throws. When `options.signal`
   * fires, the transaction rolls back and rejects with AbortError at once, and its later statements
   * fail with AbortError.
   */
  transaction<T>(fn: (queryable: TransactionQueryable) => Promise<T>, options?: QueryOptions): Promise<T>;
  poolStats(): PoolStats;
  /** The most connections the engine opens (1 for PGlite). */
  readonly maxConnections: number;
  /** Set by the client to observe how long each wait for a pooled connection took. */
  onAcquireWait?: ((seconds: number) => void) | undefined;
  /**
   * Receive NOTIFY payloads on `channel` until the returned function is called. The postgres engine
   * listens on one connection of its own, outside the pool, and reconnects when it is lost.
   */
  listen(channel: string, onNotification: NotificationHandler): Promise<Unlisten>;
  close(): Promise<void>;
}
