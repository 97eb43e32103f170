/**
 * The consumer as an async iterator: `for await (const message of consumer)`. Each message is
 * handed over by a handler that waits until the loop body asks for the next one, so a message
 * counts as handled, and its position may be recorded, only once its loop body has finished.
 */
import { AbortError } from '../vocabulary/errors.js';

/** Hands one item to the iterator's reader; resolves once the reader moved past it. */
export type Offer<Item> = (item: Item, signal: AbortSignal) => Promise<void>;

interface Offered<Item> {
  item: Item;
  delivered: boolean;
  handled(): void;
}

interface Waiter<Item> {
  resolve(result: IteratorResult<Item, undefined>): void;
  reject(error: unknown): void;
}

/**
 * An iterator over the items a run offers. `begin` starts the run on the first `next()`; `stop`
 * ends it early (`break`, `return`, `throw`). An item whose loop body did not finish, because the
 * loop was left or the run was stopped meanwhile, is not handled: its offer rejects with
 * AbortError, and the run must treat it as a stop, not a failure.
 */
export function offeredItems<Item>(begin: (offer: Offer<Item>) => Promise<void>, stop: () => Promise<void>): AsyncIterableIterator<Item, undefined> {
  let started = false;
  let offered: Offered<Item> | undefined;
  let waiter: Waiter<Item> | undefined;
  let ended: { error?: unknown } | undefined;

  const deliver = (): void => {
    const current = waiter;
    if (current === undefined) return;
    if (offered !== undefined && !offered.delivered) {
      offered.delivered = true;
      waiter = undefined;
      current.resolve({ value: offered.item, done: false });
    } else if (ended !== undefined) {
      waiter = undefined;
      const { error } = ended;
      // The failure is reported once; later calls just see the end.
      ended = {};
      if (error === undefined) current.resolve({ value: undefined, done: true });
      else current.reject(error);
    }
  };

  const offer: Offer<Item> = (item, signal) =>
    new Promise<void>((resolve, reject) => {
      const abandon = (): void => {
        if (offered?.item === item) offered = undefined;
        reject(new AbortError({ cause: signal.reason }));
      };
      if (signal.aborted) return abandon();
      signal.addEventListener('abort', abandon, { once: true });
      offered = {
        item,
        delivered: false,
        handled: () => {
          signal.removeEventListener('abort', abandon);
          resolve();
        },
      };
      deliver();
    });

  const finish = async (): Promise<IteratorResult<Item, undefined>> => {
    if (started) await stop();
    ended = {};
    return { value: undefined, done: true };
  };

  return {
    next() {
      return new Promise<IteratorResult<Item, undefined>>((resolve, reject) => {
        if (waiter !== undefined) throw new Error('next() was called before the previous call settled');
        waiter = { resolve, reject };
        if (!started) {
          started = true;
          begin(offer).then(
            () => {
              ended ??= {};
              deliver();
            },
            (error: unknown) => {
              ended = { error };
              deliver();
            },
          );
        } else if (offered?.delivered === true) {
          // Asking for the next item means the loop body finished with the previous one.
          const previous = offered;
          offered = undefined;
          previous.handled();
        }
        deliver();
      });
    },
    return: finish,
    throw: finish,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
