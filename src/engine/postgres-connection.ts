/**
 * One connection of the postgres engine: a postgres.js instance with `max: 1`, so the engine knows
 * which connection each statement runs on. Statements sent while others run are pipelined by
 * postgres.js on the one connection; each is prepared once per connection (Parse and Describe the
 * first time, then only Bind and Execute). Rows come back as arrays of column text (postgres.js'
 * `.values()`, with no type parsed: see postgres-options.ts) and are decoded by the client's
 * decoder as they arrive. (`.raw()`, each column as a Buffer, cost more: a Buffer per column.)
 */
import { Socket } from 'node:net';
import postgres from 'postgres';
import { ArrayColumns } from '../vocabulary/message.js';
import type { RowDecoder, SqlRow } from './engine.js';
import { parameterTexts } from './parameter-text.js';
import type { PostgresTarget } from './postgres-options.js';
import type { BackendKey } from './protocol-requests.js';

/** What a row's result tells of its columns (known from the first row on: the extended protocol binds first). */
interface ResultColumns {
  columns?: readonly { name: string }[] | null;
}

/** The failure of statements sent on a connection that closed before it was ready. */
function closedBeforeReady(): Error {
  return Object.assign(new Error('The connection closed before the server was ready for statements'), { code: 'CONNECTION_CLOSED' });
}

/** A row as postgres.js hands it with `.values()`: each column's text, or null. */
type TextRow = readonly (string | null)[];

export class PostgresConnection {
  readonly #sql: postgres.Sql;
  readonly #prepare: boolean;
  /** The session's key for a CancelRequest, once the server gave it. */
  #backend: BackendKey | undefined;
  /** Why the connection could not be opened, if it could not. */
  #openFailure: { error: unknown } | undefined;
  /** Callers holding the connection: each running a statement, or a transaction. */
  users = 0;
  /** Held by a transaction: no other statement is sent on it. */
  reserved = false;
  /** Being ended or ended: no socket is opened for it any more (statements still queued on it fail). */
  retired = false;
  /** A call on it was given up and a cancel sent: nothing more is sent on it. */
  givenUp = false;
  /** Set by endWhenIdle: ends the connection once the last caller holding it is done. */
  #endWhenIdle: (() => void) | undefined;

  constructor(target: PostgresTarget, onClose: (connection: PostgresConnection) => void) {
    this.#prepare = target.options.prepare !== false;
    const closed = (): void => onClose(this);
    // The socket is opened here (postgres.js' `socket` option) to see it close: postgres.js opens
    // a new one by itself when one closes before the session is ready, again and again if a server
    // (or a proxy) keeps closing them. One connection is one session here: closed, it is done.
    const socket = (): Socket => {
      // postgres.js opens a socket again for statements still queued: they fail instead.
      if (this.retired || this.#openFailure !== undefined) throw this.#openFailure?.error ?? closedBeforeReady();
      const opened = new Socket();
      // Each statement goes out in one write, at once: no waiting for the previous one's ACK (Nagle).
      opened.setNoDelay(true);
      if (target.address.path === undefined) opened.connect(target.address.port, target.address.host);
      else opened.connect(target.address.path);
      opened.once('close', () => {
        if (this.#backend === undefined) this.#openFailure ??= { error: closedBeforeReady() };
        closed();
      });
      return opened;
    };
    this.#sql = postgres({ ...target.options, socket, onclose: closed } as typeof target.options);
    // The session's cancel key: a result's `state` (its backend's pid and secret). Pipelined ahead
    // of the first statement, so it costs no round trip; a failure shows in that statement.
    // If it fails, the connection could not be opened (a refused login, say): the statements
    // queued behind it fail with that reason rather than with the closing of the connection.
    this.#sql.unsafe('SELECT 1').then(
      (result) => (this.#backend = result.state as unknown as BackendKey),
      (error: unknown) => {
        this.#openFailure ??= { error };
        closed();
      },
    );
  }

  /** The key a CancelRequest for this session names, once known. */
  get backend(): BackendKey | undefined {
    return this.#backend;
  }

  /** Run a statement; rows as arrays of column text (or null), or decoded one by one as they arrive. */
  statement<Row>(text: string, values: readonly unknown[], decode: RowDecoder<Row> | undefined): Promise<Row[]> {
    const rows: Row[] = [];
    let failure: { error: unknown } | undefined;
    const columns = decode === undefined ? undefined : new ArrayColumns();
    // Rows are always taken with forEach: after a statement failed part way through its rows,
    // postgres.js (3.4.x) places the next statement's collected rows after as many empty slots.
    return this.#send(text, values, (row) => {
      if (failure !== undefined) return;
      try {
        rows.push(columns === undefined || decode === undefined ? (row as Row) : decode(columns.over(row)));
      } catch (error) {
        // The rest of the rows are read and dropped, so the connection stays in step.
        failure = { error };
      }
    }).then(() => {
      if (failure !== undefined) throw failure.error;
      return rows;
    });
  }

  /** Run the caller's own SQL: each row's columns as text (or null), by name. */
  sql(text: string, values: readonly unknown[]): Promise<SqlRow[]> {
    const rows: SqlRow[] = [];
    let names: string[] | undefined;
    return this.#send(text, values, (row, result) => {
      names ??= (result.columns ?? []).map((column) => column.name);
      const record: SqlRow = {};
      for (const [index, name] of names.entries()) record[name] = row[index] ?? null;
      rows.push(record);
    }).then(() => rows);
  }

  #send(text: string, values: readonly unknown[], onRow: (row: TextRow, result: ResultColumns) => void): Promise<unknown> {
    // The extended protocol even without values (postgres.js' default then is the simple one), so
    // every statement is prepared once and then only bound and executed.
    const options = { prepare: this.#prepare, simple: false } as postgres.UnsafeQueryOptions;
    const query = this.#sql.unsafe(text, parameterTexts(values) as never[], options).values();
    return query
      .forEach((row, result) => {
        onRow(row as unknown as TextRow, result as unknown as ResultColumns);
      })
      .catch((error: unknown) => {
        throw this.#openFailure?.error ?? error;
      });
  }

  /** Run a command or a multi-statement script (simple protocol); resolves with the last command's tag. */
  command(text: string): Promise<string | null> {
    return this.#sql.unsafe(text).then((rows) => {
      // A script of several statements resolves with one result per statement.
      const last = rows.at(-1);
      const result = (Array.isArray(last) && 'command' in last ? last : rows) as { command?: string | null };
      return result.command ?? null;
    });
  }

  /** A caller is done with the connection. */
  release(): void {
    this.users--;
    if (this.users === 0) this.#endWhenIdle?.();
  }

  /** Close the connection once its statements ended, or after `timeoutMs` at the latest (0: at once). */
  end(timeoutMs: number): Promise<void> {
    this.retired = true;
    return this.#sql.end({ timeout: timeoutMs / 1000 }).catch(() => {});
  }

  /**
   * Close the connection once no caller holds it: callers that took it before (whose statements
   * may not be sent yet) run theirs first.
   */
  endWhenIdle(): Promise<void> {
    // Not retired yet: the statements of the callers that hold it may still need its socket opened.
    if (this.users === 0) return this.end(0);
    return new Promise((resolve) => (this.#endWhenIdle = () => resolve(this.end(0))));
  }
}
