/**
 * A consumer group member in a worker process (started by `startConsumerGroup()` in the replica
 * consumer-group test). It reads its category from the read replica and prints `handled <global
 * position> <stream name> <sequence>` for every message, then `stats <json>` (where its reads went)
 * after a clean stop.
 *
 * Environment: WORKER_PRIMARY_URL, WORKER_REPLICA_URL.
 */
import { Consumer, MessageDbClient, runConsumerGroupMember } from '../../src/index.ts';
import type { SpreadData } from './consumer-support.ts';

await runConsumerGroupMember(async ({ category, identifier, consumerGroup, signal }) => {
  const client = await MessageDbClient.connect({
    connectionString: process.env.WORKER_PRIMARY_URL,
    readReplicas: [process.env.WORKER_REPLICA_URL ?? ''],
  });
  try {
    const consumer = new Consumer(client, {
      category,
      identifier,
      consumerGroup,
      readFromReplicas: true,
      batchSize: 100,
      positionUpdateInterval: 25,
      pollIntervalMs: 20,
    }).onAny<SpreadData>((message) => {
      // process.stdout blocks on a full pipe (Linux); writeSync(1) would fail with EAGAIN instead.
      process.stdout.write(`handled ${message.globalPosition} ${message.streamName} ${message.data.sequence}\n`);
    });
    await consumer.start({ signal });
    const { readsOnReplicas, readsOnPrimary } = await client.replicaStats();
    process.stdout.write(`stats ${JSON.stringify({ readsOnReplicas, readsOnPrimary })}\n`);
  } finally {
    await client.close();
  }
});
