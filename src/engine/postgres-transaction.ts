/**
 * A transaction on one connection of the postgres engine: BEGIN, the caller's callback with the
 * connection's statements and the caller's own SQL, then COMMIT or ROLLBACK, every step bounded as
 * the engine bounds any statement (queryTimeoutMs, and the transaction's signal).
 */
import { AbortError, TransactionRolledBackError } from '../vocabulary/errors.js';
import type { Statement } from '../vocabulary/sql.js';
import { boundedCall } from './bounded-call.js';
import type { QueryOptions, SqlRow, TransactionQueryable } from './engine.js';

/** What a transaction uses of the engine's connection; each call is bounded by queryTimeoutMs and its signal. */
export interface TransactionConnection {
  /** Run a Message DB statement. */
  statement<Row>(statement: Statement, values: readonly unknown[], options: QueryOptions<Row>): Promise<Row[]>;
  /** Run a command or script (simple protocol); resolves with the command tag of its last statement. */
  command(text: string, signal: AbortSignal | undefined): Promise<string | null>;
  /** Run the caller's own SQL. */
  sql(text: string, values: readonly unknown[], signal: AbortSignal | undefined): Promise<SqlRow[]>;
  /** True once a call on the connection was given up: it is then closed, never rolled back and reused. */
  readonly abandoned: boolean;
}

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
  let reusable = false;
  let failure: { error: unknown } | undefined;
  const noteFailure = (error: unknown): never => {
    failure ??= { error };
    throw error;
  };
  try {
    await connection.command('BEGIN', signal);
    // Every statement of the callback ends with the transaction's signal too.
    const queryable: TransactionQueryable = {
      query: (statement, values, queryOptions = {}) =>
        connection.statement(statement, values, { ...queryOptions, signal: eitherSignal(signal, queryOptions.signal) }).catch(noteFailure),
      exec: async (script) => {
        await connection.command(script, signal).catch(noteFailure);
      },
      sql: (text, values, sqlOptions = {}) => {
        const statementSignal = eitherSignal(signal, sqlOptions.signal);
        if (statementSignal?.aborted) return Promise.reject(new AbortError({ cause: statementSignal.reason }));
        return connection.sql(text, values, statementSignal).catch(noteFailure);
      },
    };
    let result: T;
    try {
      // An abort ends the transaction at once, whatever the callback awaits: its connection is
      // closed, which rolls the transaction back on the server (a cancel stops a statement
      // running in it), and the callback's later statements fail with AbortError.
      result = await boundedCall(fn(queryable), { signal });
      if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    } catch (error) {
      if (!connection.abandoned && !signal?.aborted) {
        reusable = await connection.command('ROLLBACK', undefined).then(
          () => true,
          () => false,
        );
      }
      throw error;
    }
    // Once COMMIT is sent, the outcome is the server's: the signal no longer applies.
    const command = await connection.command('COMMIT', undefined);
    reusable = true;
    // COMMIT of a transaction that a failed statement aborted succeeds as a ROLLBACK: the
    // callback swallowed that failure, but its writes are gone and the caller must know.
    if (command === 'ROLLBACK') throw new TransactionRolledBackError({ cause: failure?.error });
    return result;
  } finally {
    settled(reusable && !connection.abandoned);
  }
}
