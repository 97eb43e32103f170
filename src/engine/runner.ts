/**
 * Runs statements for a session: translates database errors into typed ones and, outside
 * transactions, retries connection faults and deadlocks with capped exponential backoff. Reads are idempotent;
 * writes are retried too because their message ids are unique (see write.ts).
 */
import type { QueryOptions, Queryable, RowDecoder } from './engine.js';
import { AbortError, ClosedError } from '../vocabulary/errors.js';
import { fromPostgresError, isConnectionFault, isDeadlock } from '../vocabulary/postgres-error.js';
import type { Statement } from '../vocabulary/sql.js';

/** Retry settings with defaults applied: the store's RetryConfig (store/config.ts) resolved. */
export interface ResolvedRetry {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** What `Runner.run` takes besides the statement, its values and the signal. */
export interface RunOptions<Row = unknown[]> {
  /** Set to how many tries the statement took (more than 1 after a fault). */
  attempts?: { count: number } | undefined;
  /** Decode each row (see QueryOptions.decode); the rows come back as arrays of column text without it. */
  decode?: RowDecoder<Row> | undefined;
}

/** What a session runs statements through. */
export interface Runner {
  /** True inside a transaction: no retries, and an error has aborted the transaction. */
  readonly transactional: boolean;
  /** Run a statement. */
  run<Row = unknown[]>(statement: Statement, values: readonly unknown[], signal?: AbortSignal, options?: RunOptions<Row>): Promise<Row[]>;
}

/** Resolve after `ms`, or reject with AbortError as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError({ cause: signal.reason }));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError({ cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * How a backoff spreads its delays: `equal` waits between half the doubled delay and all of it (the
 * client's and the consumer's retries: never much sooner than planned); `full` anywhere from 0 to it
 * (writers that collided on one stream, so they do not collide again on the same schedule); `none`
 * exactly it (polling a replica's progress).
 */
export type Jitter = 'equal' | 'full' | 'none';

/**
 * The delay before try number `attempt` (1-based): doubling from `initialDelayMs`, capped at
 * `maxDelayMs`, with `jitter`. The one backoff of the package: connection retries, consumers,
 * command retries and replica waits all use it.
 */
export function backoffDelay(attempt: number, delays: { initialDelayMs: number; maxDelayMs: number }, jitter: Jitter = 'equal'): number {
  const ceiling = Math.min(delays.maxDelayMs, delays.initialDelayMs * 2 ** (attempt - 1));
  if (jitter === 'none') return ceiling;
  if (jitter === 'full') return Math.round(Math.random() * ceiling);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Called for every connection fault a runner sees, with whether it will retry. */
export type ConnectionFaultObserver = (attempt: number, retrying: boolean, error: unknown) => void;

/** A runner over a queryable; `retry` undefined means no retries (inside a transaction). */
export function createRunner(
  queryable: Queryable,
  retry: ResolvedRetry | undefined,
  isClosed: () => boolean,
  onConnectionFault?: ConnectionFaultObserver,
  /** Fires at close: a retry waiting out its backoff fails with ClosedError at once. */
  closing?: AbortSignal,
): Runner {
  return {
    transactional: retry === undefined,
    async run<Row>(statement: Statement, values: readonly unknown[], signal?: AbortSignal, { attempts, decode }: RunOptions<Row> = {}) {
      const options: QueryOptions<Row> = { signal, decode };
      for (let attempt = 1; ; attempt++) {
        if (attempts) attempts.count = attempt;
        try {
          return await queryable.query(statement, values, options);
        } catch (error) {
          const fault = isConnectionFault(error);
          // A deadlocked statement was rolled back whole (outside a transaction it was its own), so it
          // is as safe to run again as one cut off by a lost connection.
          const retryable = (fault || isDeadlock(error)) && retry !== undefined && attempt < retry.maxAttempts && !isClosed() && !signal?.aborted;
          if (fault) onConnectionFault?.(attempt, retryable, error);
          if (!retryable) throw fromPostgresError(error);
          const wake = closing === undefined || signal === undefined ? (signal ?? closing) : AbortSignal.any([signal, closing]);
          await sleep(backoffDelay(attempt, retry), wake).catch((error: unknown) => {
            throw closing?.aborted && !signal?.aborted ? new ClosedError('MessageDbClient') : error;
          });
        }
      }
    },
  };
}
