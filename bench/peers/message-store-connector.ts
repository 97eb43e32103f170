/**
 * `@doughtnerd/message-store-connector`: a MessageStore over its EventideClient over its
 * PostgresClient wrapping a node-postgres pool. Its SQL calls the server functions unqualified,
 * so the pool sets `search_path` like ours. `writeBatch` runs BEGIN, then every write through
 * `Promise.all` on one client, then COMMIT, so a batch gets a dedicated pooled connection (on the
 * shared pool, BEGIN and the writes would land on different connections).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import connector from '@doughtnerd/message-store-connector';
import * as fixtures from '../../src/cli/bench/fixtures.ts';
import { loopWorkload } from '../../src/cli/bench/client-workloads.ts';
import { consumerMessages, seededCategory } from '../../src/cli/bench/consumer.ts';
import { countdown, seededType } from '../../src/cli/bench/seed.ts';
import type { PeerConnection } from './peer.ts';

const { EventideClient, MessageStore, PostgresClient } = connector;

export async function openMessageStoreConnector(url: string): Promise<PeerConnection> {
  const pool = new pg.Pool({ connectionString: url, options: '-c search_path=message_store,public', max: 10 });
  const store = new MessageStore(new EventideClient(new PostgresClient(pool as unknown as pg.Client)));
  return {
    workloads: [
      loopWorkload('msc.single-write', async () => {
        const message = { id: randomUUID(), type: 'Deposited', data: fixtures.singleData, metadata: fixtures.singleMetadata };
        await store.writeMessage(`account-${fixtures.randomId()}`, message);
        return 1;
      }),
      loopWorkload('msc.batch-100', async () => {
        const connection = await pool.connect();
        try {
          const batch = Array.from({ length: 100 }, () => ({ id: randomUUID(), type: 'Deposited', data: fixtures.batchData, metadata: {} }));
          const onConnection = new EventideClient(new PostgresClient(connection as unknown as pg.Client));
          return (await onConnection.writeBatch(fixtures.transactionStream(), batch)).length;
        } finally {
          connection.release();
        }
      }),
      loopWorkload(
        'msc.stream-read',
        async () => (await store.getStreamMessages(fixtures.readStreamName, { startingPosition: 0, batchSize: fixtures.readBatchSize })).length,
      ),
      {
        // Its Subscription polls on a fixed interval whether or not the last batch was full; the
        // bench gives it 1 ms (the default is 1000) and batches of 1000, its best settings.
        key: 'msc.consumer',
        whole: true,
        run: async () => {
          const category = await seededCategory(url, 'mscconsume');
          const { tick, finished } = countdown(consumerMessages);
          const started = performance.now();
          const subscription = await store.subscribeToCategory(
            `bench${process.pid}`,
            category,
            { [seededType]: async () => tick() },
            {
              pollingInterval: 1,
              batchSize: fixtures.readBatchSize,
            },
          );
          await finished;
          const elapsedMs = performance.now() - started;
          subscription.unsubscribe();
          return (consumerMessages * 1000) / elapsedMs;
        },
      },
      loopWorkload(
        'msc.category-read',
        async () => (await store.getCategoryMessages(fixtures.readCategory, { startingPosition: 1, batchSize: fixtures.readBatchSize })).length,
      ),
    ],
    close: () => pool.end(),
  };
}
