/**
 * Consumers on a read replica (a real PostgreSQL 17 hot standby with a replay delay): in this
 * process, and as a consumer group of worker processes started by `startConsumerGroup()`. They
 * handle every message exactly once and each stream in order, record positions on the primary,
 * and never record a position the replica had not shown them. Group members must agree on the
 * group's size, which is recorded with their positions.
 */
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  Consumer,
  ConsumerGroupMismatchError,
  InvalidArgumentError,
  MessageDbClient,
  consumerGroupMember,
  isConsumerError,
  isConsumerGroupMismatchError,
  positionStreamName,
  startConsumerGroup,
  type Message,
} from '../../src/index.ts';
import { Handled, recordedPositions, sequencesByStream, writeSpread, type SpreadData } from '../support/consumer-support.ts';
import { randomCategory } from '../support/databases.ts';
import { createReplicatedDatabase, startReplication, type Replication, type ReplicatedDatabase } from '../support/replication.ts';

let replication: Replication;
let database: ReplicatedDatabase;
let writer: MessageDbClient;
const clients: MessageDbClient[] = [];

before(async () => {
  replication = await startReplication({ standbys: 1 });
  database = await createReplicatedDatabase(replication);
  writer = await MessageDbClient.connect(database.primaryUrl);
  clients.push(writer);
});

after(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await replication?.remove();
});

async function replicaClient(): Promise<MessageDbClient> {
  const client = await MessageDbClient.connect({ connectionString: database.primaryUrl, readReplicas: database.replicaUrls });
  clients.push(client);
  return client;
}

/** The newest global position of `category` that the standby shows, asked on a connection of the test's own. */
async function replicaHead(connection: pg.Client, category: string): Promise<number> {
  const { rows } = await connection.query<{ head: string | null }>(
    'SELECT max(global_position)::text AS head FROM message_store.messages WHERE message_store.category(stream_name) = $1',
    [category],
  );
  return Number(rows[0]?.head ?? 0);
}

/** Every message handled once, and each stream's messages in the order written. */
function assertExactlyOnceInOrder(handled: readonly Message<SpreadData>[], total: number): void {
  assert.equal(handled.length, total, 'every message handled');
  assert.equal(new Set(handled.map((message) => message.globalPosition)).size, total, 'none twice');
  for (const [stream, sequences] of sequencesByStream(handled)) {
    assert.deepEqual(
      sequences,
      Array.from({ length: sequences.length }, (_, index) => index),
      `${stream} in order`,
    );
  }
}

describe('consumers on a read replica', () => {
  test('a consumer reading from the replica handles everything in order and records only positions the replica had shown it', async () => {
    const client = await replicaClient();
    const category = randomCategory('replicaConsumer');
    const standby = replication.standbys[0];
    assert.ok(standby);
    await standby.setApplyDelay(500);
    const replicaConnection = new pg.Client({ connectionString: database.replicaUrls[0] });
    await replicaConnection.connect();
    const handled = new Handled<SpreadData>();
    const consumer = new Consumer(client, {
      category,
      identifier: 'replica',
      readFromReplicas: true,
      batchSize: 100,
      positionUpdateInterval: 20,
      pollIntervalMs: 10,
    }).onAny<SpreadData>((message) => handled.add(message));
    const running = consumer.start();
    const total = 2000;
    const positionStream = positionStreamName(category, 'replica');
    let checks = 0;
    let watching = true;
    // While messages arrive, the replica is 500 ms behind the primary (a consumer of the primary
    // would record positions the replica does not show yet). A recorded position is read (on the
    // primary) first, the replica's head second, so the head can only have grown in between.
    const watcher = (async () => {
      while (watching) {
        const recorded = (await writer.getLastStreamMessage<{ position: number }>(positionStream))?.data.position ?? 0;
        const shown = await replicaHead(replicaConnection, category);
        assert.ok(recorded <= shown, `recorded position ${recorded} is past the replica's head ${shown}`);
        checks++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      // Written in 8 rounds while the consumer runs, each round to 25 streams of its own.
      for (let round = 0; round < 8; round++) {
        await writeSpread(writer, category, 250, 25, { firstStream: round * 25 });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await handled.count(total, 60_000);
      await consumer.stop();
      await running;
    } finally {
      watching = false;
      await watcher.finally(() => replicaConnection.end());
      await standby.setApplyDelay(0);
    }
    assertExactlyOnceInOrder(handled.messages, total);
    assert.ok(checks > 5, `the recorded position was checked against the replica ${checks} times`);
    const positions = await recordedPositions(writer, positionStream);
    const handledPositions = new Set(handled.globalPositions);
    for (const position of positions) assert.ok(handledPositions.has(position), `recorded ${position} was handled`);
    const stats = await client.replicaStats();
    assert.ok(stats.readsOnReplicas > 0, 'the category was read on the replica');
    assert.deepEqual({ unavailable: stats.readsOnPrimary.unavailable, lagging: stats.readsOnPrimary.lagging }, { unavailable: 0, lagging: 0 });
  });
});

interface MemberOutput {
  handled: Array<{ globalPosition: number; streamName: string; sequence: number }>;
  stats: { readsOnReplicas: number; readsOnPrimary: Record<string, number> } | undefined;
}

describe('a consumer group of worker processes on a read replica', () => {
  const workerEnv = () => ({ WORKER_PRIMARY_URL: database.primaryUrl, WORKER_REPLICA_URL: database.replicaUrls[0] as string });
  const workerModule = new URL('../support/replica-group-worker.ts', import.meta.url);
  const category = randomCategory('replicaGroup');
  const size = 3;

  test('3 member processes reading from the replica handle every message exactly once, each stream in order, each on its member', async () => {
    const standby = replication.standbys[0];
    assert.ok(standby);
    await standby.setApplyDelay(100);
    const group = await startConsumerGroup({
      module: workerModule,
      category,
      size,
      identifier: 'worker',
      client: writer,
      env: workerEnv(),
      execArgv: ['--import', 'tsx'],
      stdio: 'pipe',
    });
    const outputs = group.members.map((): MemberOutput => ({ handled: [], stats: undefined }));
    let total = 0;
    const handledAll = new Handled<unknown>();
    group.members.forEach(({ process: child }, member) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const output = outputs[member] as MemberOutput;
        const [kind, ...rest] = line.split(' ');
        if (kind === 'stats') output.stats = JSON.parse(rest.join(' ')) as MemberOutput['stats'];
        if (kind !== 'handled') return;
        output.handled.push({ globalPosition: Number(rest[0]), streamName: rest[1] as string, sequence: Number(rest[2]) });
        total++;
        handledAll.check();
      });
    });
    try {
      // 3000 messages over 300 streams, written in 6 rounds while the members run.
      for (let round = 0; round < 6; round++) await writeSpread(writer, category, 500, 50, { firstStream: round * 50 });
      await Promise.race([
        handledAll.until(() => total >= 3000, 'the group handled 3000 messages', 90_000),
        // A member that fails stops the group: fail at once with its error.
        group.done.then(() => Promise.reject(new Error('the group stopped early'))),
      ]);
    } finally {
      await group.stop();
      await standby.setApplyDelay(0);
    }
    await group.done;

    const all = outputs.flatMap((output) => output.handled);
    assert.equal(all.length, 3000, 'every message once');
    assert.equal(new Set(all.map((message) => message.globalPosition)).size, 3000, 'none twice');
    outputs.forEach((output, member) => {
      const byStream = new Map<string, number[]>();
      for (const message of output.handled) {
        assert.equal(consumerGroupMember(message.streamName, size), member, `${message.streamName} belongs to member ${member}`);
        byStream.set(message.streamName, [...(byStream.get(message.streamName) ?? []), message.sequence]);
      }
      for (const [stream, sequences] of byStream)
        assert.deepEqual(
          sequences,
          sequences.map((_, index) => index),
          `${stream} in order`,
        );
      assert.ok((output.stats?.readsOnReplicas ?? 0) > 0, `member ${member} read the replica`);
      assert.deepEqual(output.stats?.readsOnPrimary, { requested: 1, unavailable: 0, lagging: 0, conflict: 0 }, 'only its position was read on the primary');
    });

    // The records stay Eventide's (Recorded, data { position }); the group is in localProperties.
    const record = await writer.getLastStreamMessage(positionStreamName(category, 'worker-2'));
    assert.equal(record?.type, 'Recorded');
    assert.deepEqual(Object.keys(record?.data as object), ['position']);
    assert.deepEqual(record?.metadata, { localProperties: { consumerGroupMember: 2, consumerGroupSize: 3 } });
  });

  test('a group started with another size is refused before any member starts: the size is recorded with the positions', async () => {
    await assert.rejects(
      startConsumerGroup({ module: workerModule, category, size: 4, identifier: 'worker', client: writer, env: workerEnv() }),
      (error: unknown) => error instanceof ConsumerGroupMismatchError && error.recorded.size === 3 && error.configured?.size === 4,
    );
  });

  test('without that check, the member whose record names another size fails at start, and the group stops with its error', async () => {
    const group = await startConsumerGroup({
      module: workerModule,
      category,
      size: 2,
      identifiers: ['worker-0', 'somebodyElse'],
      env: workerEnv(),
      execArgv: ['--import', 'tsx'],
      stdio: 'pipe',
    });
    for (const { process: child } of group.members) child.stdout?.resume();
    await assert.rejects(
      group.done,
      (error: unknown) => isConsumerError(error) && /member 0 \(worker-0\) failed: ConsumerGroupMismatchError/.test((error as Error).message),
    );
    for (const { process: child } of group.members) assert.ok(child.exitCode !== null || child.signalCode !== null, 'every member exited');
  });

  test('a consumer in this process started as another member of the group fails to start', async () => {
    const client = await replicaClient();
    const consumer = new Consumer(client, { category, identifier: 'worker-1', consumerGroup: { member: 0, size: 3 }, readFromReplicas: true });
    await assert.rejects(
      consumer.start(),
      (error: unknown) => isConsumerGroupMismatchError(error) && /member 1 of a consumer group of 3/.test((error as Error).message),
    );
  });

  test('members need distinct identifiers: a repeated one is refused before any process starts', async () => {
    await assert.rejects(
      startConsumerGroup({ module: workerModule, category, size: 3, identifiers: ['a', 'b', 'a'], env: workerEnv() }),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'identifiers' && /members 0 and 2/.test(error.message),
    );
  });
});
