/**
 * This client's workloads: single writes, batches (one `writeMessages` call), a transaction of
 * 100 `writeMessage` calls, and 1000-message stream and category reads, each the counterpart of
 * a pgbench anchor script.
 */
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ExportResult } from '@opentelemetry/core';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { MessageDbClient } from '../src/index.ts';
import { consumerWorkload } from './consumer.ts';
import type { PeerConnection } from './peers/peer.ts';
import * as fixtures from './fixtures.ts';
import { closedLoop, rate, type Workload } from './measure.ts';

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
  loopWorkload('client.stream-read', async () =>
    (await client.getStreamMessages(fixtures.readStreamName, { position: 0, batchSize: fixtures.readBatchSize })).length,
  );

export const categoryRead = (client: MessageDbClient): Workload =>
  loopWorkload('client.category-read', async () =>
    (await client.getCategoryMessages(fixtures.readCategory, { position: 1, batchSize: fixtures.readBatchSize })).length,
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

/**
 * This client's workloads on the bench database, for a host process of their own (peers/host.ts)
 * like every peer's, so no contender runs in the process that orchestrates the bench.
 */
export async function openClient(url: string): Promise<PeerConnection> {
  const client = await MessageDbClient.connect({ connectionString: url, applicationName: 'messagedb-bench' });
  // The same client with metrics (a prom-client registry) and tracing (the OpenTelemetry SDK,
  // batching spans to an exporter that drops them) on: what telemetry costs a single write.
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new DroppingExporter())] });
  const observed = await MessageDbClient.connect({
    connectionString: url,
    applicationName: 'messagedb-bench',
    metrics: true,
    tracing: provider.getTracer('messagedb-bench'),
  });
  return {
    workloads: [
      singleWrite(client),
      { ...singleWrite(observed), key: 'client.single-write-telemetry' },
      batchWrite(client, 10),
      batchWrite(client, 100),
      batchWrite(client, 1000),
      transactionWrite(client, 100),
      streamRead(client),
      categoryRead(client),
      consumerWorkload(client, url),
      consumerWorkload(client, url, 1000),
    ],
    close: async () => {
      await Promise.all([client.close(), observed.close()]);
      await provider.shutdown();
    },
  };
}

/** Takes finished spans and drops them: the SDK's work is measured, not an exporter's I/O. */
class DroppingExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
