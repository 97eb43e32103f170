/**
 * The iterator hand-over, pure: a message counts as handled only once its loop body finished.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAbortError } from '../../src/index.ts';
import { offeredItems, type Offer } from '../../src/consumer/message-iterator.ts';

/** A run that offers 1..count in order, recording which offers were handled and how it ended. */
function run(count: number, options: { failAfter?: number } = {}) {
  const controller = new AbortController();
  const handled: number[] = [];
  let outcome = 'running';
  const begin = async (offer: Offer<number>): Promise<void> => {
    try {
      for (let item = 1; item <= count && !controller.signal.aborted; item++) {
        if (item === options.failAfter) throw new Error(`run failed at ${item}`);
        await offer(item, controller.signal);
        handled.push(item);
      }
      outcome = 'ended';
    } catch (error) {
      outcome = isAbortError(error) ? 'stopped' : 'failed';
      if (!isAbortError(error)) throw error;
    }
  };
  const stop = async (): Promise<void> => {
    controller.abort();
  };
  return { iterator: offeredItems(begin, stop), handled, outcome: () => outcome };
}

describe('message iterator', () => {
  test('yields every item in order and ends when the run ends', async () => {
    const { iterator, handled } = run(5);
    const seen: number[] = [];
    for await (const item of iterator) seen.push(item);
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.deepEqual(handled, [1, 2, 3, 4, 5]);
  });

  test('an item is handled only when the loop body asks for the next one', async () => {
    const { iterator, handled } = run(3);
    assert.deepEqual(await iterator.next(), { value: 1, done: false });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(handled, [], 'item 1 is still in its loop body');
    assert.deepEqual(await iterator.next(), { value: 2, done: false });
    assert.deepEqual(handled, [1]);
    await iterator.return?.();
  });

  test('break stops the run and leaves the current item unhandled', async () => {
    const { iterator, handled, outcome } = run(10);
    for await (const item of iterator) {
      if (item === 3) break;
    }
    assert.deepEqual(handled, [1, 2]);
    assert.equal(outcome(), 'stopped');
  });

  test("a run's failure rejects next() once, then the iterator is done", async () => {
    const { iterator } = run(10, { failAfter: 3 });
    assert.equal((await iterator.next()).value, 1);
    assert.equal((await iterator.next()).value, 2);
    await assert.rejects(iterator.next(), /run failed at 3/);
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  });
});
