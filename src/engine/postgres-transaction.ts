/**
 * A transaction on one connection of the postgres engine: BEGIN, the caller's callback with the
 * connection's statements and the caller's own SQL, then COMMIT or ROLLBACK, every step bounded as
 * the engine bounds any statement (queryTimeoutMs, and the transaction's signal).
 */
import type pg from 'pg';
import { AbortError, TransactionRolledBackError } from '../vocabulary/errors.js';
import type { Statement } from '../vocabulary/sql.js';
import { boundedCall } from './bounded-call.js';
import type { QueryOptions, SqlRow, TransactionQueryable } from './engine.js';

/** What a transaction uses of the engine's connection. */
export interface TransactionConnection {
  readonly client: pg.PoolClient;
  /** Run a Message DB statement, bounded by queryTimeoutMs and its signal. */
  run<Row>(statement: Statement, values: readonly unknown[], options: QueryOptions<Row>): Promise<Row[]>;
  /** Wait for `work` sent on the connection, bounded the same way. */
  bound<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T>;
  /** True once a call on the connection was given up: it is then destroyed, never rolled back and pooled. */
  readonly abandoned: boolean;
}

/** Every column of the caller's own SQL (`tx.query`) as its text, as the engine reads Message DB's own. */
const textTypes = { getTypeParser: () => (value: string) => value };

/** Either signal, when both are given. */
function eitherSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a === undefined ? b : b === undefined ? a : AbortSignal.any([a, b]);
}

/**
 * Run `fn` in a transaction on `connection`. `settled(reusable)` is called once it ended: reusable
 * only after COMMIT or ROLLBACK succeeded, so that no later caller can inherit an open transaction.
 */
export async function runTransaction<T>(
  connection: TransactionConnection,
  fn: (queryable: TransactionQueryable) => Promise<T>,
  signal: AbortSignal | undefined,
  settled: (reusable: boolean) => void,
): Promise<T> {
  const { client } = connection;
  let reusable = false;
  let failure: { error: unknown } | undefined;
  const noteFailure = (error: unknown): never => {
    failure ??= { error };
    throw error;
  };
  try {
    await connection.bound(client.query('BEGIN'), signal);
    // Every statement of the callback ends with the transaction's signal too.
    const queryable: TransactionQueryable = {
      query: (statement, values, queryOptions = {}) =>
        connection.run(statement, values, { ...queryOptions, signal: eitherSignal(signal, queryOptions.signal) }).catch(noteFailure),
      exec: async (script) => {
        await connection.bound(client.query(script), signal).catch(noteFailure);
      },
      sql: (text, values, sqlOptions = {}) => {
        const statementSignal = eitherSignal(signal, sqlOptions.signal);
        if (statementSignal?.aborted) return Promise.reject(new AbortError({ cause: statementSignal.reason }));
        const result = client.query<SqlRow>({ text, values: [...values], types: textTypes });
        return connection.bound(result, statementSignal).then((r) => r.rows, noteFailure);
      },
    };
    let result: T;
    try {
      // An abort ends the transaction at once, whatever the callback awaits: its connection is
      // destroyed, which rolls the transaction back on the server (a cancel stops a statement
      // running in it), and the callback's later statements fail with AbortError.
      result = await boundedCall(fn(queryable), { signal });
      if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    } catch (error) {
      if (!connection.abandoned && !signal?.aborted) {
        reusable = await connection.bound(client.query('ROLLBACK'), undefined).then(() => true, () => false);
      }
      throw error;
    }
    // Once COMMIT is sent, the outcome is the server's: the signal no longer applies.
    const commit = await connection.bound(client.query('COMMIT'), undefined);
    reusable = true;
    // COMMIT of a transaction that a failed statement aborted succeeds as a ROLLBACK: the
    // callback swallowed that failure, but its writes are gone and the caller must know.
    if (commit.command === 'ROLLBACK') throw new TransactionRolledBackError({ cause: failure?.error });
    return result;
  } finally {
    settled(reusable && !connection.abandoned);
  }
}
