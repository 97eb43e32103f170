/**
 * Connection faults never kill a consumer: its backends terminated mid-run (pg_terminate_backend,
 * found by application_name), and a full restart of a server of the test's own. It recovers by
 * itself and loses nothing. The poll interval is a minute, so after a fault only a working
 * listener (or the consumer's own retries) can bring the last messages in within the test's time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Consumer, MessageDbClient, installNotifyTrigger } from '../../src/index.ts';
import { adminQuery, createDatabase, onFileEnd, postgresClient, randomCategory } from '../support/databases.ts';
import { Handled, sequencesByStream, writeSpread, type SpreadData } from '../support/consumer-support.ts';
import { startRestartableServer } from '../support/restartable-server.ts';

const retry = { initialDelayMs: 20, maxDelayMs: 300 };

/** A listening consumer whose handler is slow enough for faults to land mid-run. */
function faultConsumer(client: MessageDbClient, category: string, handled: Handled<SpreadData>): Consumer {
  let count = 0;
  return new Consumer(client, { category, identifier: 'faults', batchSize: 100, pollIntervalMs: 60_000, listen: true, retry }).onAny<SpreadData>(
    async (message) => {
      if (++count % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      handled.add(message);
    },
  );
}

/** Every global position of the category handled exactly once, and each stream in order. */
async function assertNothingLost(client: MessageDbClient, category: string, handled: Handled<SpreadData>): Promise<void> {
  const all = (await client.getCategoryMessages(category, { batchSize: -1 })).map((m) => m.globalPosition);
  assert.deepEqual(
    [...handled.globalPositions].sort((a, b) => a - b),
    all,
    'every message handled once',
  );
  for (const [stream, sequences] of sequencesByStream(handled.messages)) {
    assert.deepEqual(
      sequences,
      Array.from({ length: sequences.length }, (_, index) => index),
      `${stream} in order`,
    );
  }
}

describe('consumer connection faults', () => {
  test('its backends terminated mid-run (pool and listener), the consumer recovers by itself and loses nothing', async () => {
    const database = await createDatabase();
    const applicationName = `consumer-fault-${randomBytes(4).toString('hex')}`;
    const client = await postgresClient({ applicationName, retry }, database);
    const writer = await postgresClient({}, database);
    await installNotifyTrigger(writer);
    const category = randomCategory('fault');
    await writeSpread(writer, category, 3000, 30);

    const terminate = async (): Promise<number> => {
      const [row] = await adminQuery<{ count: string }>('SELECT count(pg_terminate_backend(pid)) AS count FROM pg_stat_activity WHERE application_name = $1', [
        applicationName,
      ]);
      return Number(row?.count);
    };

    const handled = new Handled<SpreadData>();
    const consumer = faultConsumer(client, category, handled);
    const running = consumer.start();
    await handled.count(500);
    assert.ok((await terminate()) >= 2, 'the pool connection and the listening connection were terminated');
    await handled.count(1500);
    assert.ok((await terminate()) >= 1);
    await handled.count(3000);
    assert.equal(consumer.state === 'live' || consumer.state === 'catching up', true);

    // Caught up and waiting out a minute-long poll interval: kill everything again, then write.
    assert.ok((await terminate()) >= 1);
    await writeSpread(writer, category, 30, 30, { firstStream: 30 });
    await handled.count(3030, 20_000);
    await consumer.stop();
    await running;

    await assertNothingLost(writer, category, handled);
    const stats = await consumer.stats();
    assert.equal(stats.recordedPosition, await writer.categoryHead(category));
  });

  test('a full server restart mid-run: the consumer reconnects by itself, carries on from its position, loses nothing', async () => {
    const server = await startRestartableServer();
    onFileEnd(() => server.remove());
    const name = `mdbrestart_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`, [], server.url());
    const client = await MessageDbClient.connect({ connectionString: server.url(name), retry });
    onFileEnd(() => client.close());
    await client.install();
    await installNotifyTrigger(client);
    const writer = await MessageDbClient.connect({ connectionString: server.url(name), retry });
    onFileEnd(() => writer.close());
    const category = randomCategory('restart');
    await writeSpread(writer, category, 2000, 20);

    const handled = new Handled<SpreadData>();
    const consumer = faultConsumer(client, category, handled);
    const running = consumer.start();
    await handled.count(500);
    await server.stop();
    await server.start();
    await writeSpread(writer, category, 500, 20, { firstStream: 20 });
    await handled.count(2500);

    // Live again after the restart: a new message arrives through the reconnected listener.
    await writeSpread(writer, category, 5, 5, { firstStream: 40 });
    await handled.count(2505, 20_000);
    await consumer.stop();
    await running;

    assert.equal(consumer.state, 'stopped');
    await assertNothingLost(writer, category, handled);
    assert.equal((await consumer.stats()).recordedPosition, await writer.categoryHead(category));
  });
});
