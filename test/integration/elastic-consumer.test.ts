/**
 * Elastic consumers in one process on a real server (the process test with kills and pauses is
 * test/reliability/elastic-group.test.ts): settings checked before any SQL, PGlite refused, two
 * members sharing the partitions and one taking all when the other stops, a member whose lease
 * session was ended rejoining, the fence record refusing a stale holder's record, a handler
 * failure stopping its member and freeing its partitions, and the metrics.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Consumer,
  HandlerError,
  installNotifyTrigger,
  InvalidArgumentError,
  isPositionConflictError,
  MessageDbClient,
  positionStreamName,
  recordPosition,
  type Message,
} from '../../src/index.ts';
import { elasticGroupKey } from '../../src/consumer/elastic-sql.ts';
import { createDatabase, onFileEnd, pgliteClient, randomCategory } from '../support/databases.ts';
import { eventually, Handled, writeSpread } from '../support/consumer-support.ts';

const database = await createDatabase();
const connect = async (metrics = false): Promise<MessageDbClient> => {
  const client = await MessageDbClient.connect({ connectionString: database.url, metrics });
  onFileEnd(() => client.close());
  return client;
};
const admin = await connect();
await admin.install();

const elastic = { partitions: 8, leaseTimeoutMs: 1000, heartbeatIntervalMs: 100 };
const held = async (consumer: Consumer): Promise<number[]> => (await consumer.stats()).elastic?.partitions ?? [];

/** Resolves once every message of `category` now stored is among those handled. */
async function handledAll(handled: Handled, category: string): Promise<void> {
  const all: number[] = [];
  for await (const message of admin.readCategory(category)) all.push(message.globalPosition);
  await handled.until(() => {
    const seen = new Set(handled.globalPositions);
    return all.every((position) => seen.has(position));
  }, `every message of ${category} handled`);
}

/** Every stream's messages were handled in position order, none passed over. */
function assertStreamOrder(messages: readonly Message[]): void {
  const next = new Map<string, number>();
  for (const message of messages) {
    const expected = next.get(message.streamName) ?? 0;
    assert.ok(message.position <= expected, `${message.streamName}/${message.position} handled before ${expected}`);
    next.set(message.streamName, Math.max(expected, message.position + 1));
  }
}

describe('elastic consumers', () => {
  test('bad elastic settings are refused with InvalidArgumentError naming the setting, before anything runs', () => {
    const refused = (config: object, argument: string): void =>
      assert.throws(
        () => new Consumer(admin, { category: 'account', ...config }),
        (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument,
      );
    refused({ elastic: true }, 'identifier');
    refused({ identifier: 'w', elastic: true, consumerGroup: { member: 0, size: 2 } }, 'consumerGroup');
    refused({ identifier: 'w', elastic: { partitions: 0 } }, 'elastic.partitions');
    refused({ identifier: 'w', elastic: { leaseTimeoutMs: 10 } }, 'elastic.leaseTimeoutMs');
    refused({ identifier: 'w', elastic: { leaseTimeoutMs: 2000, heartbeatIntervalMs: 1500 } }, 'elastic.heartbeatIntervalMs');
    refused({ identifier: 'w', elastic: { leaseTimeoutMs: 60_000, heartbeatIntervalMs: 6000 } }, 'elastic.heartbeatIntervalMs');
    refused({ identifier: 'w', elastic: 'yes' }, 'elastic');
  });

  test('on PGlite an elastic consumer is refused: one session has no group to share with', async () => {
    // The refusal runs no SQL: Message DB need not be installed.
    const client = await pgliteClient({ install: false });
    assert.throws(
      () => new Consumer(client, { category: 'account', identifier: 'w', elastic: true }),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'elastic',
    );
  });

  test('two members share the partitions evenly, and when one stops the other takes them all; every message handled in stream order', async () => {
    const category = randomCategory('elastic');
    const clients = [await connect(true), await connect()];
    const handled = new Handled();
    const consumers = clients.map((client) =>
      new Consumer(client, { category, identifier: 'worker', elastic, positionUpdateInterval: 10, concurrency: 2 }).onAny((message) => handled.add(message)),
    );
    const running = consumers.map((consumer) => consumer.start());
    await writeSpread(admin, category, 400, 20);
    await eventually(async () => (await held(consumers[0]!)).length === 4 && (await held(consumers[1]!)).length === 4, 'each member holds 4 partitions');
    await handledAll(handled, category);
    const [first, second] = [await held(consumers[0]!), await held(consumers[1]!)];
    assert.deepEqual(
      [...first, ...second].sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    const metrics = await clients[0]!.metrics().metrics();
    assert.match(metrics, /messagedb_elastic_partitions_owned\{category="[^"]+",identifier="worker"\} 4/);

    const before = (await consumers[0]!.stats()).elastic?.rebalances ?? 0;
    await consumers[1]!.stop();
    await running[1];
    // A rebalance completes once the remaining member holds the stopped member's share too.
    await eventually(async () => {
      const { elastic } = await consumers[0]!.stats();
      return elastic?.partitions.length === 8 && elastic.members === 1 && elastic.rebalances > before;
    }, 'the remaining member holds all 8');
    await writeSpread(admin, category, 200, 20, { firstStream: 0 });
    await handledAll(handled, category);
    const stats = await consumers[0]!.stats();
    assert.equal(stats.elastic?.partitionCount, 8);
    assert.equal(typeof stats.elastic?.lastRebalanceMs, 'number');
    assert.ok(stats.handled > 0 && stats.handled <= handled.messages.length, `handled ${stats.handled}`);
    await consumers[0]!.stop();
    await running[0];

    const seen = new Set(handled.globalPositions);
    const all: number[] = [];
    for await (const message of admin.readCategory(category)) all.push(message.globalPosition);
    assert.deepEqual(
      all.filter((position) => !seen.has(position)),
      [],
    );
    assertStreamOrder(handled.messages);
  });

  test('a member whose lease session is ended opens a new one and takes its share again, handling what was written meanwhile', async () => {
    const category = randomCategory('elastic');
    const client = await connect();
    const handled = new Handled();
    const consumer = new Consumer(client, { category, identifier: 'worker', elastic }).onAny((message) => handled.add(message));
    const running = consumer.start();
    await eventually(async () => consumer.state === 'live', 'the member holds all 8');
    assert.equal((await held(consumer)).length, 8);
    const [row] = await admin.query(
      "SELECT pg_terminate_backend(pid) AS ended FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid::bigint = $1 AND objid::bigint = 0",
      [elasticGroupKey(category, 'worker')],
    );
    assert.equal(row?.ended, 't');
    await writeSpread(admin, category, 100, 10);
    await handledAll(handled, category);
    // Its second rebalance: back to its share (all 8) on a new lease session.
    await eventually(async () => ((await consumer.stats()).elastic?.rebalances ?? 0) >= 2, 'the member holds all 8 again');
    assert.equal((await held(consumer)).length, 8);
    assert.equal(consumer.state, 'live');
    await consumer.stop();
    await running;
  });

  test("once a partition is fenced by its new holder, the previous holder's position record fails with PositionConflictError", async () => {
    const category = randomCategory('elastic');
    const client = await connect();
    const consumer = new Consumer(client, { category, identifier: 'worker', elastic: { ...elastic, partitions: 1 } }).onAny(() => {});
    const running = consumer.start();
    await eventually(async () => (await held(consumer)).length === 1, 'the member holds the partition');
    // A holder that read the stream empty before the new holder fenced it, writing now.
    await assert.rejects(
      recordPosition(admin, positionStreamName(category, 'worker-0'), 5, { expectedVersion: -1, consumerGroup: { member: 0, size: 1 } }),
      (error: unknown) => isPositionConflictError(error),
    );
    await consumer.stop();
    await running;
  });

  test('with listen: true each partition wakes on the NOTIFY trigger, long before its next poll', async () => {
    const category = randomCategory('elastic');
    await installNotifyTrigger(admin);
    const handled = new Handled();
    const consumer = new Consumer(await connect(), { category, identifier: 'worker', elastic, listen: true, pollIntervalMs: 600_000 }).onAny((message) =>
      handled.add(message),
    );
    const running = consumer.start();
    // Live: its partitions started a heartbeat ago, read the empty category, and wait out a ten-minute poll interval.
    await eventually(async () => consumer.state === 'live', 'the member holds all 8');
    await writeSpread(admin, category, 40, 20);
    await handledAll(handled, category);
    await consumer.stop();
    await running;
  });

  test('stop() at any moment settles, and leaves no lock of the group behind', async () => {
    const category = randomCategory('elastic');
    await writeSpread(admin, category, 100, 10);
    const groupLocks = async (): Promise<number> => {
      const [row] = await admin.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid::bigint = $1", [
        elasticGroupKey(category, 'worker'),
      ]);
      return Number(row?.n);
    };
    const client = await connect();
    for (const delayMs of [0, 5, 50, 300]) {
      const consumer = new Consumer(client, { category, identifier: 'worker', elastic }).onAny(() => {});
      const running = consumer.start();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await consumer.stop();
      await running;
      assert.equal(consumer.state, 'stopped');
      assert.equal(await groupLocks(), 0, `locks left after a stop ${delayMs} ms in`);
    }
    const controller = new AbortController();
    const consumer = new Consumer(client, { category, identifier: 'worker', elastic }).onAny(() => {});
    const running = consumer.start({ signal: controller.signal });
    await eventually(async () => consumer.state === 'live', 'the member holds all 8');
    controller.abort();
    await running;
    assert.equal(await groupLocks(), 0);
  });

  test('closing the client under a running member settles start()', async () => {
    const category = randomCategory('elastic');
    const client = await MessageDbClient.connect({ connectionString: database.url });
    const consumer = new Consumer(client, { category, identifier: 'worker', elastic }).onAny(() => {});
    const running = consumer.start().then(
      () => 'resolved',
      (error: unknown) => (error instanceof Error ? error.name : 'rejected'),
    );
    await eventually(async () => consumer.state === 'live', 'the member holds all 8');
    await client.close();
    const outcome = await Promise.race([running, new Promise((resolve) => setTimeout(() => resolve('pending'), 10_000))]);
    assert.notEqual(outcome, 'pending');
  });

  test('a handler failure stops its member with the HandlerError, and another member takes its partitions', async () => {
    const category = randomCategory('elastic');
    const handled = new Handled();
    const failing = new Consumer(await connect(), { category, identifier: 'worker', elastic }).onAny(() => {
      throw new Error('boom');
    });
    const failed = failing.start();
    await eventually(async () => (await held(failing)).length === 8, 'the failing member holds all 8');
    const healthy = new Consumer(await connect(), { category, identifier: 'worker', elastic }).onAny((message) => handled.add(message));
    const running = healthy.start();
    await writeSpread(admin, category, 50, 10);
    await assert.rejects(failed, (error: unknown) => error instanceof HandlerError);
    assert.equal(failing.state, 'failed');
    await handledAll(handled, category);
    await eventually(async () => (await held(healthy)).length === 8, 'the healthy member holds all 8');
    await healthy.stop();
    await running;
  });
});
