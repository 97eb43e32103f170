/**
 * Read replicas on real servers: a PostgreSQL 17 primary and two hot standbys streaming from it
 * over loopback (test/support/replication.ts). Routing, read-your-writes under an artificial replay
 * delay (`recovery_min_apply_delay`), bounded waits, replica loss and return, a primary restart,
 * and lag in the stats and the metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvalidArgumentError, MessageDbClient, type ConnectConfig } from '../../src/index.ts';
import { eventually } from '../support/consumer-support.ts';
import { randomStreamName } from '../support/databases.ts';
import { createReplicatedDatabase, startReplication, type Replication, type ReplicatedDatabase } from '../support/replication.ts';

let replication: Replication;
let database: ReplicatedDatabase;
const clients: MessageDbClient[] = [];

before(async () => {
  replication = await startReplication({ standbys: 2 });
  database = await createReplicatedDatabase(replication);
});

after(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await replication?.remove();
});

async function connect(config: ConnectConfig = {}): Promise<MessageDbClient> {
  const client = await MessageDbClient.connect({ connectionString: database.primaryUrl, readReplicas: database.replicaUrls, ...config });
  clients.push(client);
  return client;
}

/** Slow every standby's replay down by `ms` for the duration of `run`. */
async function withApplyDelay<T>(ms: number, run: () => Promise<T>): Promise<T> {
  await Promise.all(replication.standbys.map((standby) => standby.setApplyDelay(ms)));
  try {
    return await run();
  } finally {
    await Promise.all(replication.standbys.map((standby) => standby.setApplyDelay(0)));
    await replication.caughtUp();
  }
}

/** A write token (an LSN) as a number, for comparing. */
function lsn(token: string | null): bigint {
  const [high, low] = (token ?? '0/0').split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

describe('read replicas', () => {
  test('reads go round robin over the replicas; writes go to the primary', async () => {
    const client = await connect();
    const streamName = randomStreamName();
    await client.writeMessage({ streamName, type: 'Opened' });
    await replication.caughtUp();
    for (let index = 0; index < 10; index++) await client.getStreamMessages(streamName, { after: null });
    const stats = await client.replicaStats();
    assert.deepEqual(
      stats.replicas.map((replica) => replica.reads),
      [5, 5],
    );
    assert.equal(stats.readsOnReplicas, 10);
    assert.deepEqual(stats.readsOnPrimary, { requested: 0, unavailable: 0, lagging: 0, conflict: 0 });
  });

  test("a replica URL's own options are merged with the client's: the replica serves reads, with message_store on its search_path and ISO times", async () => {
    const options = `options=${encodeURIComponent('-c statement_timeout=5000')}`;
    const client = await connect({ readReplicas: database.replicaUrls.map((url) => `${url}${url.includes('?') ? '&' : '?'}${options}`) });
    const streamName = randomStreamName();
    await client.writeMessage({ streamName, type: 'Opened' });
    await replication.caughtUp();
    const [message] = await client.getStreamMessages(streamName, { after: null });
    assert.ok(Math.abs((message?.time.getTime() ?? Number.NaN) - Date.now()) < 60_000, `time ${String(message?.time)}`);
    assert.equal((await client.replicaStats()).readsOnReplicas, 1, 'read on a replica');
  });

  test('a read without a token takes a replica as it is; primary: true reads the primary', async () => {
    const writer = await connect();
    const reader = await connect({ readYourWrites: false });
    const streamName = randomStreamName();
    await withApplyDelay(30_000, async () => {
      await writer.writeMessage({ streamName, type: 'Opened' });
      assert.equal((await reader.getStreamMessages(streamName)).length, 0, 'the replicas have not replayed the write');
      assert.equal((await reader.getStreamMessages(streamName, { primary: true })).length, 1, 'the primary has it');
    });
    const stats = await reader.replicaStats();
    assert.equal(stats.readsOnReplicas, 1);
    assert.equal(stats.readsOnPrimary.requested, 1);
  });

  test('read-your-writes: under a 400 ms replay delay, a read after a write waits for a replica and sees it', async () => {
    const client = await connect();
    const streamName = randomStreamName();
    assert.equal(client.writeToken, null, 'no token before the first write');
    await withApplyDelay(400, async () => {
      const started = performance.now();
      await client.writeMessage({ streamName, type: 'Opened' });
      const token = client.writeToken;
      assert.match(token ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
      const messages = await client.getStreamMessages(streamName);
      // The standby replays the commit 400 ms after the primary made it: the read cannot end sooner.
      const elapsedMs = performance.now() - started;
      assert.equal(messages.length, 1, 'the write is seen');
      assert.ok(elapsedMs >= 380, `the read waited for the replay delay (${elapsedMs.toFixed(0)} ms after the write began)`);
      await client.writeMessage({ streamName, type: 'Deposited' });
      assert.ok(lsn(client.writeToken) > lsn(token), 'the token moves forward with each write');
      assert.equal(await client.streamVersion(streamName), 1);
    });
    const stats = await client.replicaStats();
    assert.equal(stats.readsOnReplicas, 2, 'served by replicas');
    assert.equal(stats.readsOnPrimary.lagging, 0);
    assert.equal(stats.waits, 2);
  });

  test('a token from another client (or process) makes a read wait for that write', async () => {
    const writer = await connect();
    const reader = await connect({ readYourWrites: false });
    const streamName = randomStreamName();
    await withApplyDelay(400, async () => {
      await writer.writeMessage({ streamName, type: 'Opened' });
      const token = writer.writeToken;
      assert.equal((await reader.getStreamMessages(streamName)).length, 0, 'without the token: stale');
      assert.equal((await reader.getStreamMessages(streamName, { after: token })).length, 1, 'with the token: seen');
      assert.equal((await reader.getLastStreamMessage(streamName, { after: token }))?.type, 'Opened');
    });
    assert.equal((await reader.replicaStats()).readsOnPrimary.lagging, 0, 'the replicas answered');
  });

  test('the wait is bounded: a replica slower than replicaWaitMs is passed over for the primary, and not waited for again at once', async () => {
    const client = await connect({ replicaWaitMs: 200, replicaRetryDelayMs: 60_000 });
    const streamName = randomStreamName();
    await withApplyDelay(5_000, async () => {
      await client.writeMessage({ streamName, type: 'Opened' });
      // Each replica is waited for once (replicaWaitMs), then the primary answers.
      for (let index = 0; index < 2; index++) {
        const started = performance.now();
        assert.equal((await client.getStreamMessages(streamName)).length, 1);
        const waitedMs = performance.now() - started;
        assert.ok(waitedMs >= 150 && waitedMs < 2_000, `waited about replicaWaitMs, then read the primary (${waitedMs.toFixed(0)} ms)`);
      }
      assert.equal((await client.getStreamMessages(streamName)).length, 1);
    });
    const stats = await client.replicaStats();
    assert.equal(stats.readsOnPrimary.lagging, 3, 'the primary answered all three reads');
    assert.equal(stats.waits, 2, 'the third read did not wait: both replicas had just timed out');
    assert.equal(stats.readsOnReplicas, 0);
  });

  test('a transaction runs on the primary and moves the write token', async () => {
    const client = await connect();
    const streamName = randomStreamName();
    await withApplyDelay(300, async () => {
      const before = client.writeToken;
      const seen = await client.transaction(async (tx) => {
        await tx.writeMessage({ streamName, type: 'Opened' });
        return (await tx.getStreamMessages(streamName)).length;
      });
      assert.equal(seen, 1, 'the transaction reads its own write on its connection');
      assert.ok(lsn(client.writeToken) > lsn(before));
      assert.equal((await client.getStreamMessages(streamName)).length, 1, 'a read after the commit sees it');
    });
  });

  test('a replica that goes away is skipped (reads go to the other, then to the primary) and used again once it is back', async () => {
    const client = await connect({ replicaRetryDelayMs: 100 });
    const streamName = randomStreamName();
    await client.writeMessage({ streamName, type: 'Opened' });
    const [first, second] = replication.standbys as [(typeof replication.standbys)[0], (typeof replication.standbys)[0]];
    try {
      await first.stop();
      for (let index = 0; index < 6; index++) assert.equal((await client.getStreamMessages(streamName)).length, 1);
      let stats = await client.replicaStats();
      assert.deepEqual(
        stats.replicas.map((replica) => replica.state),
        ['down', 'up'],
      );
      assert.equal(stats.replicas[1]?.reads, 6, 'the healthy replica served every read');
      assert.equal(stats.replicas[0]?.failures, 1);

      await second.stop();
      for (let index = 0; index < 3; index++) assert.equal((await client.getStreamMessages(streamName)).length, 1);
      stats = await client.replicaStats();
      assert.equal(stats.readsOnPrimary.unavailable, 3, 'with no replica up, the primary answers');

      await first.start();
      await second.start();
      await replication.caughtUp();
      await eventually(async () => {
        await client.getStreamMessages(streamName);
        return (await client.replicaStats()).replicas.every((replica) => replica.state === 'up');
      }, 'both replicas are up again');
      const before = (await client.replicaStats()).replicas.map((replica) => replica.reads);
      for (let index = 0; index < 4; index++) await client.getStreamMessages(streamName);
      const after = (await client.replicaStats()).replicas.map((replica) => replica.reads);
      assert.deepEqual(
        after.map((reads, index) => reads - (before[index] ?? 0)),
        [2, 2],
        'both serve reads again',
      );
    } finally {
      await first.start();
      await second.start();
    }
  });

  test('a primary restart is survived: writes retry, and reads after it see every write', async () => {
    const client = await connect();
    const streamName = randomStreamName();
    await client.writeMessage({ streamName, type: 'Opened' });
    await replication.primary.restart();
    await client.writeMessage({ streamName, type: 'Deposited' });
    assert.deepEqual(
      (await client.getStreamMessages(streamName)).map((message) => message.type),
      ['Opened', 'Deposited'],
    );
    await replication.caughtUp();
    assert.equal((await client.getStreamMessages(streamName, { after: client.writeToken })).length, 2);
  });

  test('replica lag shows in replicaStats() and in the metrics', async () => {
    const client = await connect({ metrics: true });
    const writer = await connect();
    await withApplyDelay(30_000, async () => {
      await writer.writeMessage({ streamName: randomStreamName(), type: 'Opened' });
      await eventually(async () => (await client.replicaStats()).replicas.every((replica) => (replica.lagBytes ?? 0) > 0), 'lag is seen');
      const stats = await client.replicaStats();
      for (const replica of stats.replicas) {
        assert.equal(replica.state, 'up');
        assert.ok((replica.lagSeconds ?? 0) > 0, 'lag in seconds');
        assert.ok(!replica.target.includes(new URL(database.primaryUrl).password), 'no password in the target');
      }
      const text = await client.metrics().metrics();
      const name = stats.replicas[0]?.name ?? '';
      assert.match(text, new RegExp(`messagedb_replica_lag_bytes\\{replica="${name}"\\} [1-9]`));
      assert.match(text, new RegExp(`messagedb_replica_up\\{replica="${name}"\\} 1`));
      assert.match(text, /messagedb_replica_lag_seconds\{replica="/);
    });
    await eventually(async () => (await client.replicaStats()).replicas.every((replica) => replica.lagBytes === 0), 'no lag once replayed');
    await client.getStreamMessages(randomStreamName(), { after: null });
    assert.match(await client.metrics().metrics(), /messagedb_replica_routed_reads_total\{target="[^"]+",reason="routed"\} 1/);
  });

  test('bad replica settings and read options are refused before anything runs, naming the argument', async () => {
    const argument = (name: string) => (error: unknown) => error instanceof InvalidArgumentError && error.argument === name;
    await assert.rejects(MessageDbClient.connect({ connectionString: database.primaryUrl, readReplicas: ['mysql://nowhere'] }), argument('readReplicas[0]'));
    await assert.rejects(MessageDbClient.connect({ connectionString: database.primaryUrl, readReplicas: 'postgres://x' as never }), argument('readReplicas'));
    await assert.rejects(
      MessageDbClient.connect({ connectionString: database.primaryUrl, readReplicas: database.replicaUrls, replicaWaitMs: -1 }),
      argument('replicaWaitMs'),
    );
    const client = await connect();
    await assert.rejects(client.getStreamMessages(randomStreamName(), { after: 'yesterday' }), argument('after'));
    await assert.rejects(client.categoryHead('account', { primary: 'yes' as never }), argument('primary'));
    const stats = await client.replicaStats();
    assert.equal(stats.readsOnReplicas + stats.readsOnPrimary.requested + stats.readsOnPrimary.unavailable, 0, 'no read ran');
  });
});
