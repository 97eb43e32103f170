/**
 * This client's workloads: single writes, batches (one `writeMessages` call), a transaction of
 * 100 `writeMessage` calls, and 1000-message stream and category reads, each the counterpart of
 * a pgbench anchor script.
 */
import type { MessageDbClient } from '../../store/client.js';
import * as fixtures from './fixtures.js';
import { closedLoop, rate, type Workload } from './measure.js';

/** A workload that runs `operation` back to back (one caller, so one connection, like `pgbench -c 1`). */
export function loopWorkload(key: string, operation: () => Promise<number>): Workload {
  return { key, run: async (durationMs) => rate(await closedLoop(durationMs, operation)) };
}

export const singleWrite = (client: MessageDbClient): Workload =>
  loopWorkload('client.single-write', async () => {
    await client.writeMessage(fixtures.singleMessage());
    return 1;
  });

export const batchWrite = (client: MessageDbClient, size: number): Workload =>
  loopWorkload(`client.batch-${size}`, async () => (await client.writeMessages(fixtures.batchMessages(size))).length);

export const transactionWrite = (client: MessageDbClient, size: number): Workload =>
  loopWorkload(`client.transaction-${size}`, async () => {
    const streamName = fixtures.transactionStream();
    await client.transaction(async (tx) => {
      for (let index = 0; index < size; index++) {
        await tx.writeMessage({ streamName, type: 'Deposited', data: fixtures.batchData });
      }
    });
    return size;
  });

export const streamRead = (client: MessageDbClient): Workload =>
  loopWorkload(
    'client.stream-read',
    async () => (await client.getStreamMessages(fixtures.readStreamName, { position: 0, batchSize: fixtures.readBatchSize })).length,
  );

export const categoryRead = (client: MessageDbClient): Workload =>
  loopWorkload(
    'client.category-read',
    async () => (await client.getCategoryMessages(fixtures.readCategory, { position: 1, batchSize: fixtures.readBatchSize })).length,
  );

/** Write what the read workloads read: 1000 messages in `bench-1`, 1000 in category `batch`. */
export async function seedReads(client: MessageDbClient): Promise<void> {
  const stream = Array.from({ length: fixtures.readBatchSize }, () => ({
    streamName: fixtures.readStreamName,
    type: 'Deposited',
    data: fixtures.singleData,
    metadata: fixtures.singleMetadata,
  }));
  await client.writeMessages(stream);
  for (let index = 0; index < 10; index++) {
    const streamName = `${fixtures.readCategory}-seed${index}`;
    await client.writeMessages(Array.from({ length: 100 }, () => ({ streamName, type: 'Deposited', data: fixtures.batchData })));
  }
}
