/**
 * How long a caller waits for one piece of work on a connection (a statement, BEGIN, a transaction's
 * callback): until it settles, until the caller's signal fires, or until a timeout, whichever comes
 * first. A call given up this way settles at once; the work itself may still be running, and the
 * caller's `onAbandon` makes sure its connection is never used again (postgres.ts destroys it).
 */
import { AbortError } from '../vocabulary/errors.js';

/** What ends a call early. */
export interface CallBounds {
  signal?: AbortSignal | undefined;
  /** Give up after this long; the call then fails with `timeoutError()`. */
  timeoutMs?: number | undefined;
  timeoutError?: (() => Error) | undefined;
  /**
   * After the signal fired, wait at most this long for the work to end by itself before settling
   * with AbortError (the server's answer to a cancel: a write that the cancel stopped was then
   * certainly not committed). The work's own result wins if it comes first.
   */
  abortGraceMs?: number | undefined;
  /** Called once when the call is given up, before it settles. */
  onAbandon?: ((why: 'abort' | 'timeout') => void) | undefined;
}

const ignore = (): void => {};

/** `work`, bounded by `bounds` (see CallBounds). */
export function boundedCall<T>(work: Promise<T>, bounds: CallBounds): Promise<T> {
  const { signal, timeoutMs, abortGraceMs } = bounds;
  if (signal === undefined && timeoutMs === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let onAbandon = bounds.onAbandon;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const giveUp = (why: 'abort' | 'timeout', error: () => unknown): void => {
      if (!finish()) return;
      // The work ends later (its connection destroyed, or the cancel answered): nobody listens.
      work.catch(ignore);
      onAbandon?.(why);
      reject(error());
    };
    const aborted = (cause?: unknown): AbortError => new AbortError({ cause: cause ?? signal?.reason });
    function onAbort(): void {
      if (settled) return;
      if (abortGraceMs === undefined || abortGraceMs <= 0) {
        giveUp('abort', aborted);
        return;
      }
      // Cancel now, but let the work's own ending (the cancel's effect) settle the call if it comes in time.
      onAbandon?.('abort');
      onAbandon = undefined;
      clearTimeout(timer);
      timer = setTimeout(() => giveUp('abort', aborted), abortGraceMs);
    }
    if (signal?.aborted) return giveUp('abort', aborted);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => giveUp('timeout', () => bounds.timeoutError?.() ?? new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (error: unknown) => {
        if (finish()) reject(signal?.aborted ? aborted(error) : error);
      },
    );
  });
}
