/**
 * The opt-in NOTIFY trigger and `listen: true`, on a real PostgreSQL server and on PGlite.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  Consumer,
  ConsumerError,
  hasNotifyTrigger,
  installNotifyTrigger,
  notifyChannel,
  uninstallNotifyTrigger,
  type MessageDbClient,
} from '../../src/index.ts';
import { engines, randomCategory } from '../support/databases.ts';
import { Handled } from '../support/consumer-support.ts';

/** Collect a channel's payloads; `next()` resolves with the next one. */
async function listenTo(client: MessageDbClient, channel: string) {
  const payloads: Array<string | null> = [];
  const waiting: Array<(payload: string | null) => void> = [];
  const unlisten = await client.listen(channel, (payload) => {
    const wait = waiting.shift();
    if (wait) wait(payload);
    else payloads.push(payload);
  });
  return {
    unlisten,
    next: (): Promise<string | null> => (payloads.length > 0 ? Promise.resolve(payloads.shift() ?? null) : new Promise((resolve) => waiting.push(resolve))),
    pending: payloads,
  };
}

for (const engine of engines) {
  describe(`NOTIFY trigger and listen on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test('a plain install() adds no trigger', async () => {
      assert.deepEqual(await client.install(), { action: 'verified', version: '1.3.0' });
      assert.equal(await hasNotifyTrigger(client), false);
    });

    test('a consumer with listen: true refuses to start without the trigger, naming the fix', async () => {
      const consumer = new Consumer(client, { category: randomCategory(), identifier: 'x', listen: true });
      const error = await consumer.start().catch((e: unknown) => e);
      assert.ok(error instanceof ConsumerError);
      assert.match(error.message, /installNotifyTrigger/);
    });

    test('installNotifyTrigger is idempotent and install() still verifies the schema unchanged', async () => {
      await installNotifyTrigger(client);
      await installNotifyTrigger(client);
      assert.equal(await hasNotifyTrigger(client), true);
      assert.deepEqual(await client.install(), { action: 'verified', version: '1.3.0' });
    });

    test("a write notifies its category's channel with its global position, and no other channel", async () => {
      const category = randomCategory();
      const other = randomCategory();
      const mine = await listenTo(client, notifyChannel(category));
      const theirs = await listenTo(client, notifyChannel(other));
      await client.writeMessage({ streamName: `${category}-1`, type: 'A' });
      const head = await client.categoryHead(category);
      assert.equal(await mine.next(), String(head));
      await client.writeMessage({ streamName: `${category}-2`, type: 'B' });
      assert.equal(await mine.next(), String(head + 1));
      assert.deepEqual(theirs.pending, []);
      await mine.unlisten();
      await theirs.unlisten();
    });

    test('a category too long for a channel name is notified on its hashed channel', async () => {
      const category = randomCategory('x'.repeat(60));
      const channel = notifyChannel(category);
      assert.match(channel, /^messagedb:[0-9a-f]{32}$/);
      const listener = await listenTo(client, channel);
      await client.writeMessage({ streamName: `${category}-1`, type: 'A' });
      assert.equal(await listener.next(), String(await client.categoryHead(category)));
      await listener.unlisten();
    });

    test('a category with a double quote in it is listened to correctly (the channel is quoted)', async () => {
      const category = randomCategory('we"ird');
      const listener = await listenTo(client, notifyChannel(category));
      await client.writeMessage({ streamName: `${category}-1`, type: 'A' });
      assert.equal(await listener.next(), String(await client.categoryHead(category)));
      await listener.unlisten();
    });

    test('a consumer with listen: true wakes at once on a write instead of at its next poll', async (t) => {
      const category = randomCategory();
      await client.writeMessage({ streamName: `${category}-1`, type: 'First' });
      const handled = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'x', listen: true, pollIntervalMs: 60_000 }).onAny((m) => handled.add(m));
      const running = consumer.start();
      await handled.count(1);
      // The consumer reached the head and waits out a minute-long poll interval.
      const latencies: number[] = [];
      for (let index = 2; index <= 6; index++) {
        const written = performance.now();
        await client.writeMessage({ streamName: `${category}-1`, type: 'Next' });
        await handled.count(index, 5_000);
        latencies.push(performance.now() - written);
      }
      await consumer.stop();
      await running;
      t.diagnostic(`write-to-handler latency with listen: ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`);
      assert.ok(Math.max(...latencies) < 1000, 'every message arrived long before the poll interval');
    });

    test('uninstallNotifyTrigger removes it; writes carry on without notifications', async () => {
      const category = randomCategory();
      const listener = await listenTo(client, notifyChannel(category));
      await uninstallNotifyTrigger(client);
      assert.equal(await hasNotifyTrigger(client), false);
      await client.writeMessage({ streamName: `${category}-1`, type: 'Unheard' });
      await installNotifyTrigger(client);
      await client.writeMessage({ streamName: `${category}-1`, type: 'Heard' });
      // Notifications arrive in commit order: had the first write notified, it would come first.
      assert.equal(await listener.next(), String(await client.categoryHead(category)));
      await listener.unlisten();
    });
  });
}
