/**
 * The PGlite engine: PostgreSQL compiled to WebAssembly, in this process, in memory or in a data
 * directory. One session: PGlite serialises queries and transactions itself, so a transaction
 * holds the database until it ends.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { PGlite, types } from '@electric-sql/pglite';
import { AbortError, ClosedError, TransactionRolledBackError, WouldDeadlockError } from '../vocabulary/errors.js';
import { ArrayColumns } from '../vocabulary/message.js';
import type { Statement } from '../vocabulary/sql.js';
import * as sql from '../vocabulary/sql.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { boundedCall } from './bounded-call.js';
import type { Engine, NotificationHandler, PoolStats, QueryOptions, SqlRow, TransactionQueryable, Unlisten } from './engine.js';
import { WaitQueue } from './wait-queue.js';

/** What the PGlite engine needs. */
export interface PgliteEngineConfig {
  /** A directory to keep the database in; in memory when omitted. */
  dataDir: string | undefined;
  /** A data directory dumped by `dumpDataDir()` to start from, instead of an empty database. */
  loadDataDir?: Blob | undefined;
  allowCondition: boolean;
}

/** The structural part of PGlite's query API this engine uses. */
interface PgliteQueryable {
  query<T>(text: string, values?: unknown[], options?: object): Promise<{ rows: T[] }>;
  exec(text: string): Promise<unknown>;
}

// Return every column as its text, like the postgres engine, so one decoder serves both.
const rawText = (value: string): string => value;
const textOids = [16, 18, 19, 20, 21, 23, 25, 26, 114, 700, 701, 1043, 1082, 1114, 1184, 1700, 2950, 3802];
const queryOptions = {
  rowMode: 'array',
  parsers: Object.fromEntries(textOids.map((oid) => [oid, rawText])),
} as const;

/** The caller's own SQL (`tx.query`): rows as objects, every column as its text, as on the postgres engine. */
const sqlOptions = {
  rowMode: 'object',
  parsers: Object.fromEntries(
    Object.keys(types.parsers)
      .filter((oid) => /^\d+$/.test(oid))
      .map((oid) => [Number(oid), rawText]),
  ),
} as const;

/** A PGlite transaction's callback, as seen from the calls made inside it. */
interface TransactionScope {
  engine: PgliteEngine;
  open: boolean;
}

/**
 * Which PGlite transaction a call comes from, if any: a call on the engine from inside its own
 * transaction's callback would wait for that transaction forever. Created by the first PGlite
 * transaction, so a process that never runs one pays nothing for it.
 */
let transactionScopes: AsyncLocalStorage<TransactionScope> | undefined;

/** Reject at once when `signal` fired (a transaction's, or the statement's own). */
function abortedBy(signal: AbortSignal | undefined): Promise<never> | undefined {
  return signal?.aborted ? Promise.reject(new AbortError({ cause: signal.reason })) : undefined;
}

async function run<Row>(db: PgliteQueryable, statement: Statement, values: readonly unknown[], { signal, decode }: QueryOptions<Row> = {}): Promise<Row[]> {
  // PGlite cannot cancel a running statement; the signal is honoured before it starts.
  if (signal?.aborted) throw new AbortError({ cause: signal.reason });
  const { rows } = await db.query<unknown[]>(statement.text, values as unknown[], queryOptions);
  // PGlite hands over all rows at once: decoding them as they come would gain nothing here.
  if (decode === undefined) return rows as Row[];
  const columns = new ArrayColumns();
  return rows.map((row) => decode(columns.over(row)));
}

/** PGlite behind the engine seam. */
export class PgliteEngine implements Engine {
  readonly kind = 'pglite' as const;
  readonly multipleConnections = false;
  readonly maxConnections = 1;
  onAcquireWait: ((seconds: number) => void) | undefined;
  readonly #db: PGlite;
  /** Calls started and not finished; PGlite runs one and queues the rest. */
  #busy = 0;
  /** Subscribers by channel; PGlite hands every notification of its one session to one callback. */
  readonly #listeners = new Map<string, Set<NotificationHandler>>();
  #hearing = false;
  /** Calls waiting for the one running call (#track) to finish. */
  readonly #turns = new WaitQueue<undefined>();
  #turnTaken = false;
  #closed = false;

  /** The data directory's lock, released once PGlite has closed it; none in memory. */
  readonly #lock: DataDirLock | undefined;

  private constructor(db: PGlite, lock: DataDirLock | undefined) {
    this.#db = db;
    this.#lock = lock;
  }

  /**
   * Lock the data directory (DataDirLockedError while another opener has it: PGlite allows one),
   * start PGlite and set the session up the way the postgres engine's startup options do.
   */
  static async create(config: PgliteEngineConfig): Promise<PgliteEngine> {
    const lock = config.dataDir === undefined ? undefined : lockDataDir(config.dataDir);
    let db: PGlite | undefined;
    try {
      db = await PGlite.create({
        // A database that starts by recovering (a dumped copy, a directory left by a crash) arms
        // PostgreSQL's startup-progress timer, and the WebAssembly build keeps its timer armed:
        // the process would never exit by itself. The timer only logs, so it is switched off.
        startParams: [...PGlite.defaultStartParams, '-c', 'log_startup_progress_interval=0'],
        ...(config.dataDir === undefined ? {} : { dataDir: config.dataDir }),
        ...(config.loadDataDir === undefined ? {} : { loadDataDir: config.loadDataDir }),
      });
      const settings = ['SET search_path TO message_store, public', 'SET DateStyle TO ISO'];
      if (config.allowCondition) settings.push('SET message_store.sql_condition TO on');
      await db.exec(settings.join('; '));
      return new PgliteEngine(db, lock);
    } catch (error) {
      // The directory is free again only once nothing of this PGlite writes to it.
      if (db !== undefined && !db.closed) await db.close().catch(() => {});
      lock?.release();
      throw error;
    }
  }

  async query<Row = unknown[]>(statement: Statement, values: readonly unknown[], options: QueryOptions<Row> = {}): Promise<Row[]> {
    return this.#track(() => run(this.#db, statement, values, options), options.signal);
  }

  async exec(script: string): Promise<void> {
    await this.#track(() => this.#db.exec(script), undefined);
  }

  async transaction<T>(fn: (queryable: TransactionQueryable) => Promise<T>, options: QueryOptions = {}): Promise<T> {
    const { signal } = options;
    let failure: { error: unknown } | undefined;
    const noteFailure = (error: unknown): never => {
      failure ??= { error };
      throw error;
    };
    try {
      return await this.#track(
        () =>
          this.#db.transaction(async (tx) => {
            const scope: TransactionScope = { engine: this, open: true };
            // Every statement of the callback ends with the transaction's signal too.
            const queryable: TransactionQueryable = {
              query: (statement, values, queryOptions) => abortedBy(signal) ?? run(tx, statement, values, queryOptions).catch(noteFailure),
              exec: async (script) => {
                await (abortedBy(signal) ?? tx.exec(script).catch(noteFailure));
              },
              sql: (text, values, statementOptions = {}) =>
                abortedBy(signal) ?? abortedBy(statementOptions.signal) ?? tx.query<SqlRow>(text, [...values], sqlOptions).then((r) => r.rows, noteFailure),
            };
            try {
              // An abort ends the transaction at once, whatever the callback awaits: throwing here
              // makes PGlite roll back (after a statement it is running), and the callback's later
              // statements fail with AbortError.
              transactionScopes ??= new AsyncLocalStorage();
              const result = await boundedCall(
                transactionScopes.run(scope, () => fn(queryable)),
                { signal },
              );
              if (signal?.aborted) throw new AbortError({ cause: signal.reason });
              return result;
            } finally {
              scope.open = false;
            }
          }),
        signal,
      );
    } catch (error) {
      // PGlite's COMMIT of a transaction a failed statement aborted: report it as the postgres engine does.
      const { code, message } = error as { code?: unknown; message?: unknown };
      if (code === '25P02' && message === 'Transaction was rolled back instead of committed') {
        throw new TransactionRolledBackError({ cause: failure?.error });
      }
      throw error;
    }
  }

  /**
   * The whole data directory as an uncompressed tarball, for `loadDataDir`: loading one is several
   * times faster than starting an empty database and installing Message DB in it.
   */
  async dumpDataDir(): Promise<Blob> {
    return this.#track(() => this.#db.dumpDataDir('none'), undefined);
  }

  poolStats(): PoolStats {
    return { total: 1, idle: this.#busy > 0 ? 0 : 1, waiting: Math.max(0, this.#busy - 1) };
  }

  async listen(channel: string, onNotification: NotificationHandler): Promise<Unlisten> {
    // PGlite's own listen() keys channels by the unquoted text, which breaks on quotes; its
    // onNotification sees every channel as the server names it.
    if (!this.#hearing) {
      this.#hearing = true;
      this.#db.onNotification((name, payload) => {
        for (const handler of this.#listeners.get(name) ?? []) handler(payload);
      });
    }
    let handlers = this.#listeners.get(channel);
    if (handlers === undefined) {
      handlers = new Set();
      this.#listeners.set(channel, handlers);
      await this.exec(sql.listen(channel));
    }
    handlers.add(onNotification);
    return async () => {
      if (!handlers.delete(onNotification) || handlers.size > 0) return;
      this.#listeners.delete(channel);
      if (!this.#db.closed) await this.exec(sql.unlisten(channel));
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#turns.rejectAll(() => new ClosedError('MessageDbClient'));
    if (!this.#db.closed) await this.#db.close();
    // After PGlite flushed and closed its files; a close that threw keeps the lock until the process ends.
    this.#lock?.release();
  }

  /**
   * Run `work` when it is this call's turn: one at a time, first come, first served. A call waiting
   * its turn leaves the queue at once when its signal fires, or with ClosedError at close. A call
   * from inside this engine's own transaction callback would wait for that transaction forever:
   * it fails at once instead.
   */
  async #track<T>(work: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const scope = transactionScopes?.getStore();
    if (scope?.open === true && scope.engine === this) throw new WouldDeadlockError();
    if (this.#closed) throw new ClosedError('MessageDbClient');
    this.#busy++;
    try {
      if (this.#turnTaken) await this.#turns.wait(signal);
      else this.#turnTaken = true;
      try {
        return await work();
      } finally {
        if (!this.#turns.hand(undefined)) this.#turnTaken = false;
      }
    } finally {
      this.#busy--;
      // PGlite runs the statement synchronously in WebAssembly and resolves through microtasks
      // only, so a loop of awaited calls would never let timers, I/O or signals run (a consumer's
      // poll timer or Ctrl-C would wait for the loop to end). Yield to the event loop once per call.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
