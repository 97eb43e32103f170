/**
 * Dispatching a batch: one message at a time, or up to `concurrency` messages of different keys
 * (streams) at once while each key's messages stay in order. Either way it reports the handled
 * prefix: the newest message that has itself, and every message before it, handled. That is the
 * only position a consumer may record, so a restart never passes a message that was not handled.
 */

/** How a batch is dispatched. */
export interface DispatchConfig<Item> {
  /** Messages handled at once, each of a different key (1: strictly in order). */
  concurrency: number;
  /** Messages with the same key are handled one after another, in batch order. */
  key(item: Item): string;
  /**
   * Handle one message; returns nothing when it was handled synchronously. Throwing stops the
   * batch: messages in flight finish, no new ones start.
   */
  handle(item: Item): Promise<void> | undefined;
  /**
   * Called after each message is handled, in completion order, with the end of the handled prefix
   * (undefined while the batch's first message is still in flight). Awaited before that key moves on.
   */
  handled(item: Item, prefix: Item | undefined): Promise<void> | void;
}

/**
 * Dispatch `batch`; resolves when every message was handled, or once `signal` fired and the
 * messages in flight finished. Rejects with the first failure, after the messages in flight finished.
 */
export async function dispatchBatch<Item>(batch: readonly Item[], config: DispatchConfig<Item>, signal: AbortSignal): Promise<void> {
  if (config.concurrency <= 1) {
    for (const item of batch) {
      if (signal.aborted) return;
      // Only what returned a promise is awaited: a batch of synchronous handlers runs in one go.
      const handling = config.handle(item);
      if (handling !== undefined) await handling;
      const recording = config.handled(item, item);
      if (recording !== undefined) await recording;
    }
    return;
  }
  await dispatchConcurrently(batch, config, signal);
}

async function dispatchConcurrently<Item>(batch: readonly Item[], config: DispatchConfig<Item>, signal: AbortSignal): Promise<void> {
  const handled = new Array<boolean>(batch.length).fill(false);
  let prefixLength = 0;
  let failure: { error: unknown } | undefined;
  /** The last promise of each key with messages in flight or queued. */
  const tails = new Map<string, Promise<void>>();
  const freedSlot: Array<() => void> = [];

  const step = async (index: number): Promise<void> => {
    if (failure !== undefined || signal.aborted) return;
    const item = batch[index] as Item;
    try {
      await config.handle(item);
      handled[index] = true;
      while (prefixLength < batch.length && handled[prefixLength]) prefixLength++;
      await config.handled(item, prefixLength === 0 ? undefined : batch[prefixLength - 1]);
    } catch (error) {
      failure ??= { error };
    }
  };

  for (let index = 0; index < batch.length; index++) {
    const key = config.key(batch[index] as Item);
    let tail = tails.get(key);
    if (tail === undefined) {
      // A new key needs a free slot; a key already in flight queues behind itself instead.
      while (tails.size >= config.concurrency && failure === undefined && !signal.aborted) {
        await new Promise<void>((resolve) => freedSlot.push(resolve));
      }
      if (failure !== undefined || signal.aborted) break;
      tail = Promise.resolve();
    }
    const next = tail.then(() => step(index));
    tails.set(key, next);
    void next.then(() => {
      if (tails.get(key) !== next) return;
      tails.delete(key);
      freedSlot.shift()?.();
    });
  }
  await Promise.all(tails.values());
  if (failure !== undefined) throw failure.error;
}
