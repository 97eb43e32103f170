/**
 * The entity store with read replicas (a PostgreSQL 17 primary and a hot standby streaming from it,
 * test/support/replication.ts): the reads a decision depends on go to the primary, so `handle`
 * decides on the current state even while the replica lags, and does not pile up retries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EntityStore, MessageDbClient } from '../../src/index.ts';
import { randomCategory } from '../support/databases.ts';
import { createReplicatedDatabase, startReplication, type Replication, type ReplicatedDatabase } from '../support/replication.ts';

let replication: Replication;
let database: ReplicatedDatabase;
const clients: MessageDbClient[] = [];

before(async () => {
  replication = await startReplication({ standbys: 1 });
  database = await createReplicatedDatabase(replication);
});

after(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await replication?.remove();
});

const projection = {
  Deposited: (account: { balance: number }, data: { amount: number }) => {
    account.balance += data.amount;
  },
};

describe('entity store with read replicas', () => {
  test('handle reads on the primary: it decides on a write the lagging replica has not replayed, with no conflict', async () => {
    const writer = await MessageDbClient.connect({ connectionString: database.primaryUrl });
    // Another process: its own reads take the replica as it is.
    const handler = await MessageDbClient.connect({ connectionString: database.primaryUrl, readReplicas: database.replicaUrls, readYourWrites: false });
    clients.push(writer, handler);
    const category = randomCategory('account');
    const store = new EntityStore(handler, { category, entity: () => ({ balance: 0 }), projection, snapshot: { interval: 1 } });
    await writer.writeMessage({ streamName: `${category}-1`, type: 'Deposited', data: { amount: 10 } });
    await replication.caughtUp();
    assert.equal((await store.fetch('1')).version, 0);

    await replication.standbys[0]?.setApplyDelay(30_000);
    try {
      await writer.writeMessage({ streamName: `${category}-1`, type: 'Deposited', data: { amount: 5 } });
      // A fetch routed to the replica does not see it yet: a decision made on that would conflict.
      assert.equal((await store.fetch('1')).version, 0, 'the replica lags');
      const primaryReadsBefore = (await handler.replicaStats()).readsOnPrimary.requested;
      let decidedOn = -2;
      const positions = await store.handle('1', (account, version) => {
        decidedOn = version;
        return { type: 'Deposited', data: { amount: account.balance } };
      });
      assert.equal(decidedOn, 1, "decided on the primary's version");
      assert.deepEqual(positions, [2]);
      assert.equal(store.stats().conflicts, 0);
      assert.ok((await handler.replicaStats()).readsOnPrimary.requested > primaryReadsBefore, 'the reads went to the primary');
      assert.deepEqual(await store.fetch('1', { primary: true }), { entity: { balance: 30 }, version: 2 });
    } finally {
      await replication.standbys[0]?.setApplyDelay(0);
    }
  });
});
