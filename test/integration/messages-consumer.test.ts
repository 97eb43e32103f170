/**
 * Typed consumers on PostgreSQL and PGlite: `on(definition, handler)` receives upcast, validated
 * data; a message its definition cannot read reaches `onError`; a consumer filtered to the types
 * it handles handles every match, moves its recorded position past stretches with no match (so its
 * reads start near the head instead of rescanning the category), and skips nothing while writers
 * run beside it.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { z } from 'zod';
import {
  Consumer,
  ConsumerError,
  type HandlerError,
  defineMessage,
  isUnreadableMessageError,
  type MessageDbClient,
  type NewMessage,
  type TypedMessage,
} from '../../src/index.ts';
import { runUntilCaughtUp } from '../../src/testing/index.ts';
import { engines, randomCategory } from '../support/databases.ts';
import { eventually, recordedPositions } from '../support/consumer-support.ts';

const Deposited = defineMessage('Deposited', z.object({ amount: z.number().positive() }), {
  schemaVersion: '2',
  upcast: { '1': (v1: { cents: number }) => ({ amount: v1.cents / 100 }) },
});

/** `count` messages of one category: type Wanted at the indexes in `wanted`, Noise elsewhere, over 10 streams. */
function messages(category: string, count: number, wanted: (index: number) => boolean): NewMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    streamName: `${category}-${index % 10}`,
    type: wanted(index) ? 'Wanted' : 'Noise',
    data: { index },
  }));
}

/** Write `all` (of one category) 500 at a time; resolves with the category head. */
async function writeInBatches(client: MessageDbClient, all: readonly NewMessage[]): Promise<number> {
  for (let start = 0; start < all.length; start += 500) await client.writeMessages(all.slice(start, start + 500));
  return client.categoryHead((all[0]?.streamName ?? '').split('-')[0] ?? '');
}

for (const engine of engines) {
  describe(`typed consumer on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test('on(definition) hands the handler upcast data, typed', async () => {
      const account = randomCategory('typed');
      await client.writeMessage({ streamName: `${account}-1`, type: 'Deposited', data: { cents: 250 }, metadata: { schemaVersion: '1' } });
      await client.writeMessage({ streamName: `${account}-1`, ...Deposited.build({ amount: 4 }) });
      const amounts: number[] = [];
      const consumer = new Consumer(client, { category: account }).on(Deposited, (message: TypedMessage<'Deposited', { amount: number }>) => {
        amounts.push(message.data.amount);
      });
      await runUntilCaughtUp(consumer);
      assert.deepEqual(amounts, [2.5, 4]);
    });

    test('a message its definition cannot read reaches onError with an UnreadableMessageError naming it, and can be skipped', async () => {
      const account = randomCategory('unreadable');
      await client.writeMessage({ streamName: `${account}-1`, type: 'Deposited', data: { amount: 1 }, metadata: { schemaVersion: '3' } });
      await client.writeMessage({ streamName: `${account}-1`, type: 'Deposited', data: { amount: -1 }, metadata: { schemaVersion: '2' } });
      await client.writeMessage({ streamName: `${account}-1`, ...Deposited.build({ amount: 7 }) });
      const errors: HandlerError[] = [];
      const amounts: number[] = [];
      const consumer = new Consumer(client, {
        category: account,
        onError: (error) => {
          errors.push(error);
          return 'skip';
        },
      }).on(Deposited, (message) => void amounts.push(message.data.amount));
      await runUntilCaughtUp(consumer);
      assert.deepEqual(amounts, [7]);
      assert.equal(errors.length, 2);
      const [newer, invalid] = errors.map((error) => error.cause);
      assert.ok(isUnreadableMessageError(newer) && isUnreadableMessageError(invalid));
      assert.deepEqual([newer.reason, newer.streamName, newer.position, newer.schemaVersion], ['unknown-version', `${account}-1`, 0, '3']);
      assert.deepEqual([invalid.reason, invalid.position, invalid.schemaVersion], ['invalid-data', 1, '2']);
      assert.match(errors[0]?.message ?? '', /^Message could not be read on message Deposited/);
    });

    test("filter: 'handled' asks the server for the types of the handlers, and needs handlers of their own types", async () => {
      const account = randomCategory('handled');
      await client.writeMessages([
        { streamName: `${account}-1`, ...Deposited.build({ amount: 1 }) },
        { streamName: `${account}-1`, type: 'Noise', data: null },
        { streamName: `${account}-1`, type: 'Closed', data: null },
        { streamName: `${account}-1`, type: 'Noise', data: null },
      ]);
      const seen: string[] = [];
      const consumer = new Consumer(client, { category: account, identifier: 'handled', filter: 'handled' })
        .on(Deposited, (message) => void seen.push(message.type))
        .on('Closed', (message) => void seen.push(message.type));
      await runUntilCaughtUp(consumer);
      // Past the last Noise, which the server never sent: the filtered read moved the position to the head.
      assert.equal((await recordedPositions(client, consumer.positionStreamName)).at(-1), await client.categoryHead(account));
      assert.deepEqual(seen, ['Deposited', 'Closed']);
      assert.equal((await consumer.stats()).handled, 2);
      await assert.rejects(new Consumer(client, { category: account, filter: 'handled' }).onAny(() => {}).start(), ConsumerError);
    });

    describe('filtered to the one type in 1,000 it handles', () => {
      let wantedCategory: string;
      let head: number;
      const wantedIndexes = [0, 1000, 2000];
      before(async () => {
        wantedCategory = randomCategory('sparse');
        // The last match is followed by 999 messages that do not match.
        head = await writeInBatches(
          client,
          messages(wantedCategory, 3000, (index) => index % 1000 === 0),
        );
      });

      test('handles every match and records the category head as its position, not the last match', async () => {
        const handled: number[] = [];
        const consumer = new Consumer(client, { category: wantedCategory, identifier: 'sparse', batchSize: 100, filter: { types: ['Wanted'] } }).on(
          'Wanted',
          (message: { data: { index: number } }) => void handled.push(message.data.index),
        );
        const running = consumer.start();
        await eventually(
          async () => (await recordedPositions(client, consumer.positionStreamName)).at(-1) === head,
          `the position recorded is the head (${head})`,
        );
        assert.deepEqual(handled, wantedIndexes);
        assert.equal((await consumer.stats()).handled, 3, 'stretches without a match are not counted as handled');

        // More messages without a match: the position follows the head, so the next read starts there.
        const newHead = await writeInBatches(
          client,
          messages(wantedCategory, 500, () => false),
        );
        await eventually(async () => (await recordedPositions(client, consumer.positionStreamName)).at(-1) === newHead, 'the position follows the head');
        await consumer.stop();
        await running;
        assert.deepEqual(handled, wantedIndexes);
      });

      test('a restarted consumer resumes at the recorded head and handles only what is new', async () => {
        const handled: number[] = [];
        const consumer = new Consumer(client, { category: wantedCategory, identifier: 'restart', filter: { types: ['Wanted'] } }).on(
          'Wanted',
          (message: { data: { index: number } }) => void handled.push(message.data.index),
        );
        let running = consumer.start();
        await eventually(async () => handled.length === 3, 'the three matches handled');
        await consumer.stop();
        await running;
        await client.writeMessage({ streamName: `${wantedCategory}-new`, type: 'Wanted', data: { index: 9999 } });
        running = consumer.start();
        await eventually(async () => handled.length === 4, 'the new match handled');
        await consumer.stop();
        await running;
        assert.deepEqual(handled, [...wantedIndexes, 9999]);
      });
    });

    for (const concurrency of [1, 4])
      test(`while writers run beside it, a filtered consumer with concurrency ${concurrency} handles every match exactly once`, async () => {
        const busy = randomCategory('busy');
        const handled: number[] = [];
        const consumer = new Consumer(client, { category: busy, batchSize: 7, pollIntervalMs: 5, concurrency, filter: { types: ['Wanted'] } }).on(
          'Wanted',
          (message: { data: { index: number } }) => void handled.push(message.data.index),
        );
        const running = consumer.start();
        const writers = engine.name === 'pglite' ? 1 : 4;
        const perWriter = 300;
        await Promise.all(
          Array.from({ length: writers }, async (_, writer) => {
            for (let index = 0; index < perWriter; index++) {
              const global = writer * perWriter + index;
              await client.writeMessage({ streamName: `${busy}-${writer}`, type: global % 10 === 0 ? 'Wanted' : 'Noise', data: { index: global } });
            }
          }),
        );
        const expected = Array.from({ length: writers * perWriter }, (_, index) => index).filter((index) => index % 10 === 0);
        await eventually(async () => handled.length >= expected.length, `${expected.length} matches handled`);
        await consumer.stop();
        await running;
        assert.deepEqual(
          [...handled].sort((a, b) => a - b),
          expected,
        );
      });
  });
}
