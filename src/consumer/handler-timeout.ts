/**
 * Calling a handler with a time bound: the handler gets a signal of its own, aborted when the
 * consumer stops and when the bound passes; past the bound its promise is abandoned (JavaScript
 * cannot cancel it) and the call fails with the timeout error instead.
 */
import { boundedCall } from '../engine/bounded-call.js';

/** True for a promise or any other thenable a handler may return. */
export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';

/**
 * Run `call` with a signal that follows `stopSignal` and is aborted with `timedOut()` after
 * `timeoutMs`. A call that returns no promise is done at once (synchronous code cannot be cut
 * short) and no timer starts; a promise is raced against the timer.
 */
export function callWithTimeout(call: (signal: AbortSignal) => unknown, stopSignal: AbortSignal, timeoutMs: number, timedOut: () => Error): unknown {
  const controller = new AbortController();
  const onStop = (): void => controller.abort(stopSignal.reason);
  if (stopSignal.aborted) onStop();
  else stopSignal.addEventListener('abort', onStop, { once: true });
  let result: unknown;
  try {
    result = call(controller.signal);
  } catch (error) {
    stopSignal.removeEventListener('abort', onStop);
    throw error;
  }
  if (!isThenable(result)) {
    stopSignal.removeEventListener('abort', onStop);
    return result;
  }
  const timeoutError = (): Error => {
    const error = timedOut();
    controller.abort(error);
    return error;
  };
  // A late result, after the timeout, is dropped; the stop signal keeps no listener for an abandoned handler.
  return boundedCall(Promise.resolve(result), { timeoutMs, timeoutError }).finally(() => stopSignal.removeEventListener('abort', onStop));
}
