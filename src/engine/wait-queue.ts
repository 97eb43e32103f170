/**
 * Callers waiting their turn for a connection (or, on PGlite, for the one session), first come,
 * first served. Each waiter settles exactly once: with what `hand()` gives it, with AbortError when
 * its signal fires, with the timeout's error, or with the error `rejectAll()` gives every waiter
 * (ClosedError at close). A waiter that gave up leaves the queue at once, so nothing is ever handed
 * to a caller that is gone, and nothing keeps the process alive for it.
 */
import { AbortError } from '../vocabulary/errors.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A FIFO of callers waiting for a `T`. */
export class WaitQueue<T> {
  readonly #waiters: Waiter<T>[] = [];

  get length(): number {
    return this.#waiters.length;
  }

  /**
   * Wait for `hand()`. Rejects with AbortError as soon as `signal` fires, and with `onTimeout()` after
   * `timeoutMs` (no timeout when undefined).
   */
  wait(signal: AbortSignal | undefined, timeoutMs?: number, onTimeout?: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError({ cause: signal.reason }));
      const waiter: Waiter<T> = { resolve, reject, timer: undefined, signal, onAbort: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.#leave(waiter);
          reject(onTimeout?.() ?? new Error(`waited ${timeoutMs} ms`));
        }, timeoutMs);
      }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#leave(waiter);
          reject(new AbortError({ cause: signal.reason }));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Give `value` to the longest waiting caller; false when nobody waits. */
  hand(value: T): boolean {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return false;
    this.#forget(waiter);
    waiter.resolve(value);
    return true;
  }

  /** Settle every waiter with `error()` (e.g. ClosedError once the client closed). */
  rejectAll(error: () => unknown): void {
    for (const waiter of this.#waiters.splice(0)) {
      this.#forget(waiter);
      waiter.reject(error());
    }
  }

  #leave(waiter: Waiter<T>): void {
    const index = this.#waiters.indexOf(waiter);
    if (index >= 0) this.#waiters.splice(index, 1);
    this.#forget(waiter);
  }

  #forget(waiter: Waiter<T>): void {
    clearTimeout(waiter.timer);
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}
