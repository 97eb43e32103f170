/**
 * The consumer's poll loop. It knows no SQL: reading the start position, fetching a batch,
 * dispatching it, going idle and finishing are injected. A batch with messages is followed by the
 * next read at once (no wait while behind); only an empty batch waits `pollIntervalMs`, and that
 * wait ends early on `wake()` or `stop()`. Transient failures (a lost connection) are retried with
 * capped exponential backoff from the same position, forever: they never end the loop. `stop()`
 * waits for the batch in flight; `abandon()` stops without waiting for it.
 */
import { isAbortError } from '../vocabulary/errors.js';

/** Where a consumer is in its life. */
export type ConsumerState = 'starting' | 'catching up' | 'live' | 'stopping' | 'stopped' | 'failed';

/** What the loop runs; every function that touches the database is injected. */
export interface PollLoopConfig<Item> {
  /** The first position to fetch (read once per run, retried like a fetch). */
  start(signal: AbortSignal): Promise<number>;
  /** One batch from `position` (inclusive), in order. */
  fetch(position: number, signal: AbortSignal): Promise<readonly Item[]>;
  /**
   * Handle a batch. Returns when it is handled, or early once `signal` fired (after the messages in
   * flight finished). Throwing ends the loop with that error.
   */
  dispatch(batch: readonly Item[], signal: AbortSignal): Promise<void>;
  /** The position after `item`: the next fetch starts there. */
  nextPosition(item: Item): number;
  /** A fetch came back empty: the consumer is caught up. Throwing ends the loop. */
  idle(): Promise<void>;
  /** Runs once when the loop ends, with the error that ended it, if any. Throwing fails the run. */
  finish(failure: unknown): Promise<void>;
  /** A full batch means more is waiting (state `catching up`); a shorter one means the loop reached the head. */
  batchSize: number;
  pollIntervalMs: number;
  /** True for failures worth retrying (a lost connection); anything else ends the loop. */
  isTransient(error: unknown): boolean;
  /** The wait before retry number `attempt` (1-based). */
  retryDelayMs(attempt: number): number;
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  onState?(state: ConsumerState): void;
}

/** Thrown inside the loop when a wait was cut short by `stop()`. */
const stopped = Symbol('stopped');

/** Runs one consumer's fetch-dispatch cycle until stopped, or until a non-transient failure. */
export class PollLoop<Item> {
  readonly #config: PollLoopConfig<Item>;
  readonly #stop = new AbortController();
  #state: ConsumerState = 'starting';
  #woken = false;
  #endWait: (() => void) | undefined;
  #ended: Promise<void> | undefined;
  #abandoned = false;
  /** Ends the wait for the batch in flight, when one is being dispatched. */
  #endDispatch: (() => void) | undefined;

  constructor(config: PollLoopConfig<Item>) {
    this.#config = config;
  }

  get state(): ConsumerState {
    return this.#state;
  }

  /** Aborted when `stop()` is called: the signal handed to every injected function. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /**
   * Run until `stop()` (or `signal` fires): resolves after `finish`. Rejects with the error that
   * ended the loop otherwise. Call once per loop.
   */
  run(signal?: AbortSignal): Promise<void> {
    if (this.#ended !== undefined) throw new Error('PollLoop.run() was already called');
    const onAbort = (): void => void this.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const run = this.#run().finally(() => signal?.removeEventListener('abort', onAbort));
    this.#ended = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** Ask the loop to stop: a wait ends at once, the messages in flight finish. Resolves when the run ended. */
  stop(): Promise<void> {
    if (this.#state !== 'stopped' && this.#state !== 'failed') this.#setState('stopping');
    this.#stop.abort();
    this.#endWait?.();
    return this.#ended ?? Promise.resolve();
  }

  /**
   * Stop without waiting for the batch in flight: the run goes on to `finish` at once, and whatever
   * the abandoned dispatch does later is its own affair (the caller must ignore it). For a handler
   * that never settles. Resolves when the run ended.
   */
  abandon(): Promise<void> {
    this.#abandoned = true;
    const ended = this.stop();
    this.#endDispatch?.();
    return ended;
  }

  /** True once `abandon()` was called. */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /** Something was written: end the current poll wait now, or skip the next one. */
  wake(): void {
    this.#woken = true;
    this.#endWait?.();
  }

  async #run(): Promise<void> {
    const config = this.#config;
    const signal = this.#stop.signal;
    let failure: unknown;
    try {
      let position = await this.#retrying(() => config.start(signal));
      let prefetched: Promise<readonly Item[]> | undefined;
      while (!signal.aborted) {
        const batch = await this.#retrying(() => this.#fetch(position), prefetched);
        prefetched = undefined;
        if (signal.aborted) break;
        const last = batch[batch.length - 1];
        if (last === undefined) {
          this.#setState('live');
          await config.idle();
          await this.#wait(config.pollIntervalMs, true);
          continue;
        }
        const full = batch.length >= config.batchSize;
        this.#setState(full ? 'catching up' : 'live');
        position = config.nextPosition(last);
        // Behind: read the next batch while this one is handled, so the server's time is hidden.
        if (full) prefetched = this.#fetch(position);
        await this.#dispatch(batch, signal);
      }
    } catch (error) {
      const stoppedCleanly = error === stopped || (signal.aborted && isAbortError(error));
      if (!stoppedCleanly) failure = error;
    }
    if (this.#state !== 'stopping') this.#setState('stopping');
    this.#stop.abort();
    try {
      await config.finish(failure);
    } catch (error) {
      failure ??= error;
    }
    this.#setState(failure === undefined ? 'stopped' : 'failed');
    if (failure !== undefined) throw failure;
  }

  /** Dispatch `batch`; `abandon()` ends the wait for it early (as a stop). */
  #dispatch(batch: readonly Item[], signal: AbortSignal): Promise<void> {
    const dispatching = this.#config.dispatch(batch, signal);
    return new Promise<void>((resolve, reject) => {
      const end = (settle: () => void) => (): void => {
        if (this.#endDispatch === abandon) this.#endDispatch = undefined;
        settle();
      };
      const abandon = end(() => reject(stopped));
      this.#endDispatch = abandon;
      dispatching.then(end(resolve), (error: unknown) => end(() => reject(error))());
      if (this.#abandoned) abandon();
    });
  }

  #fetch(position: number): Promise<readonly Item[]> {
    // A wake-up that arrives once this read started may concern a message the read missed.
    this.#woken = false;
    const batch = this.#config.fetch(position, this.#stop.signal);
    // Settled later, or dropped when the loop ends first: never an unhandled rejection.
    batch.catch(() => {});
    return batch;
  }

  /**
   * Run `step` (or await `first`, a try already started), retrying transient failures with backoff
   * until it succeeds or the loop stops.
   */
  async #retrying<T>(step: () => Promise<T>, first?: Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await (attempt === 1 && first !== undefined ? first : step());
      } catch (error) {
        if (this.#stop.signal.aborted) throw stopped;
        if (!this.#config.isTransient(error)) throw error;
        const delayMs = this.#config.retryDelayMs(attempt);
        this.#config.onRetry?.(error, attempt, delayMs);
        await this.#wait(delayMs, false);
        if (this.#stop.signal.aborted) throw stopped;
      }
    }
  }

  /** Wait `ms`; `stop()` always ends the wait early, `wake()` only when `wakeable`. */
  #wait(ms: number, wakeable: boolean): Promise<void> {
    if (this.#stop.signal.aborted || (wakeable && this.#woken)) return Promise.resolve();
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.#endWait = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.#endWait = wakeable ? end : () => this.#stop.signal.aborted && end();
    });
  }

  #setState(state: ConsumerState): void {
    if (state === this.#state) return;
    // Once stopping, only the end states may follow.
    if (this.#state === 'stopping' && state !== 'stopped' && state !== 'failed') return;
    this.#state = state;
    this.#config.onState?.(state);
  }
}
