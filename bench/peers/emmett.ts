/**
 * Emmett's PostgreSQL event store (`@event-driven-io/emmett-postgresql`), in its own schema (its
 * `emt_*` tables, created by its own migration) in the same database. The equivalent workloads:
 * `appendToStream` with one event and with 100 (one call is one transaction), `readStream` of a
 * 1000-event stream, and, as the category read, `readMessagesBatch` of 1000 messages from its
 * global log: Emmett has no categories, and that batch read is what its consumers pull.
 * Emmett sets node-postgres' global type parsers (int8 to BigInt, json), so it runs in a process
 * of its own (see host.ts) and cannot change what the other clients measure.
 */
import { dumbo } from '@event-driven-io/dumbo';
import { getPostgreSQLEventStore, postgreSQLEventStoreConsumer, readLastMessageGlobalPosition, readMessagesBatch } from '@event-driven-io/emmett-postgresql';
import * as fixtures from '../../src/cli/bench/fixtures.ts';
import { loopWorkload } from '../../src/cli/bench/client-workloads.ts';
import { consumerMessages } from '../../src/cli/bench/consumer.ts';
import { countdown } from '../../src/cli/bench/seed.ts';
import type { PeerConnection } from './peer.ts';

type Deposited = { type: 'Deposited'; data: { amount: number; currency?: string }; metadata?: { correlationStreamName: string } };

export async function openEmmett(url: string): Promise<PeerConnection> {
  const pool = dumbo({ connectionString: url });
  const store = getPostgreSQLEventStore(url, { connectionOptions: { dumbo: pool } });
  await store.schema.migrate();
  // What the reads read: a 1000-event stream, which also puts 1000 messages first in the global log.
  const seed: Deposited[] = Array.from({ length: fixtures.readBatchSize }, () => ({
    type: 'Deposited',
    data: fixtures.singleData,
    metadata: fixtures.singleMetadata,
  }));
  await store.appendToStream(fixtures.readStreamName, seed);

  return {
    workloads: [
      loopWorkload('emmett.single-write', async () => {
        await store.appendToStream<Deposited>(`account-${fixtures.randomId()}`, [
          { type: 'Deposited', data: fixtures.singleData, metadata: fixtures.singleMetadata },
        ]);
        return 1;
      }),
      loopWorkload('emmett.batch-100', async () => {
        const events: Deposited[] = Array.from({ length: 100 }, () => ({ type: 'Deposited', data: fixtures.batchData }));
        await store.appendToStream<Deposited>(fixtures.transactionStream(), events);
        return events.length;
      }),
      loopWorkload('emmett.stream-read', async () => (await store.readStream<Deposited>(fixtures.readStreamName)).events.length),
      {
        // Its consumer pulls batches of 1000 every 1 ms (defaults: 100 and 50 ms) and stops when
        // no message is left; it starts after the last message written before the seed.
        key: 'emmett.consumer',
        whole: true,
        run: async () => {
          const { currentGlobalPosition } = await readLastMessageGlobalPosition(pool.execute);
          for (let index = 0; index < consumerMessages / 1000; index++) {
            // The rows the other consumers read (src/cli/bench/seed.ts, shape `anchor`): no metadata of ours.
            await store.appendToStream<Deposited>(
              `consume-${fixtures.randomId()}`,
              Array.from({ length: 1000 }, () => ({
                type: 'Deposited' as const,
                data: fixtures.batchData,
              })),
            );
          }
          const { tick, finished } = countdown(consumerMessages);
          // A consumer of its own pool: closing one made by `store.consumer()` would end the store's pool.
          const consumer = postgreSQLEventStoreConsumer({
            connectionString: url,
            pulling: { batchSize: 1000, pullingFrequencyInMs: 1 },
            stopWhen: { noMessagesLeft: true },
          });
          consumer.reactor<Deposited>({
            processorId: `bench-${fixtures.randomId()}`,
            startFrom: currentGlobalPosition === null ? 'BEGINNING' : { lastCheckpoint: currentGlobalPosition },
            eachMessage: async () => tick(),
          });
          const started = performance.now();
          const running = consumer.start();
          await Promise.race([finished, running]);
          const elapsedMs = performance.now() - started;
          await consumer.stop();
          await running.catch(() => {});
          await consumer.close();
          return (consumerMessages * 1000) / elapsedMs;
        },
      },
      loopWorkload(
        'emmett.category-read',
        async () => (await readMessagesBatch(pool.execute, { from: 0n, batchSize: fixtures.readBatchSize })).messages.length,
      ),
    ],
    close: () => store.close(),
  };
}
