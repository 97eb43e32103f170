/**
 * Batch dispatch, pure: order within a key, parallelism across keys, and the handled prefix.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dispatchBatch, type DispatchConfig } from '../../src/consumer/dispatch.ts';

interface Item {
  key: string;
  globalPosition: number;
}

/** Items spread over `keys` keys, round robin, at global positions 1..count. */
function items(count: number, keys: number): Item[] {
  return Array.from({ length: count }, (_, index) => ({ key: `k${index % keys}`, globalPosition: index + 1 }));
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Dispatch with handlers that take a random number of event-loop turns, and record what happened. */
async function run(batch: Item[], concurrency: number, options: { fail?: number; signal?: AbortSignal } = {}) {
  const handledOrder: Item[] = [];
  const prefixes: Array<number | undefined> = [];
  const prefixViolations: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const inFlightKeys = new Set<string>();
  const config: DispatchConfig<Item> = {
    concurrency,
    key: (item) => item.key,
    handle: async (item) => {
      assert.ok(!inFlightKeys.has(item.key), `two messages of ${item.key} in flight at once`);
      inFlightKeys.add(item.key);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      for (let turns = (item.globalPosition * 7) % 4; turns >= 0; turns--) await tick();
      inFlight--;
      inFlightKeys.delete(item.key);
      if (item.globalPosition === options.fail) throw new Error(`failed at ${item.globalPosition}`);
      handledOrder.push(item);
    },
    handled: (_, prefix) => {
      prefixes.push(prefix?.globalPosition);
      const handled = new Set(handledOrder.map((item) => item.globalPosition));
      for (let position = 1; position <= (prefix?.globalPosition ?? 0); position++) {
        if (!handled.has(position)) prefixViolations.push(`prefix ${prefix?.globalPosition} passes unhandled ${position}`);
      }
    },
  };
  const signal = options.signal ?? new AbortController().signal;
  let error: unknown;
  await dispatchBatch(batch, config, signal).catch((e: unknown) => (error = e));
  return { handledOrder, prefixes, prefixViolations, maxInFlight, error };
}

function perKeyOrder(handled: Item[]): Map<string, number[]> {
  const order = new Map<string, number[]>();
  for (const item of handled) order.set(item.key, [...(order.get(item.key) ?? []), item.globalPosition]);
  return order;
}

describe('batch dispatch', () => {
  test('with concurrency 1 messages are handled one at a time in batch order, each the end of the prefix', async () => {
    const batch = items(20, 3);
    const result = await run(batch, 1);
    assert.deepEqual(
      result.handledOrder.map((item) => item.globalPosition),
      batch.map((item) => item.globalPosition),
    );
    assert.deepEqual(
      result.prefixes,
      batch.map((item) => item.globalPosition),
    );
    assert.equal(result.maxInFlight, 1);
  });

  test('with concurrency 4 up to 4 keys run at once and each key keeps its order', async () => {
    const batch = items(200, 10);
    const result = await run(batch, 4);
    assert.equal(result.error, undefined);
    assert.equal(result.handledOrder.length, 200);
    assert.equal(result.maxInFlight, 4);
    for (const [key, positions] of perKeyOrder(result.handledOrder)) {
      assert.deepEqual(
        positions,
        [...positions].sort((a, b) => a - b),
        `${key} in order`,
      );
    }
  });

  test('the reported prefix never passes a message that is not handled, and ends at the last message', async () => {
    const result = await run(items(300, 17), 8);
    assert.deepEqual(result.prefixViolations, []);
    assert.equal(result.prefixes.at(-1), 300);
    const defined = result.prefixes.filter((prefix) => prefix !== undefined);
    assert.deepEqual(
      defined,
      [...defined].sort((a, b) => a - b),
      'the prefix only moves forward',
    );
  });

  test('a failure stops new messages, lets those in flight finish, and rejects with the failure', async () => {
    const result = await run(items(100, 10), 4, { fail: 30 });
    assert.match(String(result.error), /failed at 30/);
    assert.ok(result.handledOrder.length < 100, 'messages after the failure were not started');
    assert.ok(!result.handledOrder.some((item) => item.key === 'k9' && item.globalPosition > 30), 'the failed key did not move on');
    assert.ok(
      result.prefixes.every((prefix) => prefix === undefined || prefix < 30),
      'the prefix stops before the failed message',
    );
  });

  test('an aborted signal lets the messages in flight finish and starts no others', async () => {
    const controller = new AbortController();
    const batch = items(100, 10);
    let handled = 0;
    await dispatchBatch(
      batch,
      {
        concurrency: 4,
        key: (item) => item.key,
        handle: async () => {
          await tick();
          if (++handled === 10) controller.abort();
        },
        handled: () => {},
      },
      controller.signal,
    );
    assert.ok(handled >= 10 && handled < 14, `${handled} handled: the 10th, plus at most the 3 others in flight`);
  });
});
