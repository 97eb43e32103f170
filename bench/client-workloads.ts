/**
 * This client as a contender of `npm run bench`: the workloads of src/cli/bench/ (which `messagedb bench`
 * runs too), plus the telemetry row, which needs the OpenTelemetry SDK (a dev dependency) and so
 * stays here.
 */
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ExportResult } from '@opentelemetry/core';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { batchWrite, categoryRead, singleWrite, streamRead, transactionWrite } from '../src/cli/bench/client-workloads.ts';
import * as fixtures from '../src/cli/bench/fixtures.ts';
import { closedLoop, rate, type Workload } from '../src/cli/bench/measure.ts';
import { consumerWorkload } from '../src/cli/bench/consumer.ts';
import { MessageDbClient } from '../src/index.ts';
import type { PeerConnection } from './peers/peer.ts';

/**
 * This client's workloads on the bench database, for a host process of their own (peers/host.ts)
 * like every peer's, so no contender runs in the process that orchestrates the bench.
 */
export async function openClient(url: string): Promise<PeerConnection> {
  const client = await MessageDbClient.connect({ connectionString: url, applicationName: 'messagedb-bench' });
  // The same client with metrics (a prom-client registry) and tracing (the OpenTelemetry SDK,
  // batching spans to an exporter that drops them) on: what telemetry costs a single write.
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new DroppingExporter())] });
  const tracer = provider.getTracer('messagedb-bench');
  const connect = (telemetry: { metrics?: boolean; tracing?: typeof tracer }): Promise<MessageDbClient> =>
    MessageDbClient.connect({ connectionString: url, applicationName: 'messagedb-bench', ...telemetry });
  const observed = await connect({ metrics: true, tracing: tracer });
  const metered = await connect({ metrics: true });
  const traced = await connect({ tracing: tracer });
  // One connection for all callers: what the client does with concurrent statements on it.
  const single = await MessageDbClient.connect({ connectionString: url, applicationName: 'messagedb-bench', maxPoolSize: 1 });
  // The same, with the callers' statements pipelined on that connection (ConnectConfig.pipelining).
  const pipelined = await MessageDbClient.connect({ connectionString: url, applicationName: 'messagedb-bench', maxPoolSize: 1, pipelining: true });
  return {
    workloads: [
      singleWrite(client),
      { ...singleWrite(observed), key: 'client.single-write-telemetry' },
      { ...singleWrite(metered), key: 'client.single-write-metrics' },
      { ...singleWrite(traced), key: 'client.single-write-tracing' },
      concurrentWrites(single, concurrentCallers),
      { ...concurrentWrites(pipelined, concurrentCallers), key: `client.concurrent-${concurrentCallers}-pipelined` },
      batchWrite(client, 10),
      batchWrite(client, 100),
      batchWrite(client, 1000),
      transactionWrite(client, 100),
      streamRead(client),
      categoryRead(client),
      consumerWorkload(client, url),
      consumerWorkload(client, url, { positionUpdateInterval: 1000 }),
      consumerWorkload(client, url, { shape: 'single' }),
    ],
    close: async () => {
      await Promise.all([client.close(), observed.close(), metered.close(), traced.close(), single.close(), pipelined.close()]);
      await provider.shutdown();
    },
  };
}

/** How many callers share the one connection of `client.concurrent-<n>`. */
const concurrentCallers = 8;

/**
 * `client.concurrent-<callers>`: single writes by `callers` concurrent callers through `client`
 * (opened with `maxPoolSize: 1`). An engine that sends one statement at a time makes them wait
 * their turn; one that pipelines them on the connection can beat pgbench `-c 1`.
 */
function concurrentWrites(client: MessageDbClient, callers: number): Workload {
  const write = async (): Promise<number> => {
    await client.writeMessage(fixtures.singleMessage());
    return 1;
  };
  return { key: `client.concurrent-${callers}`, run: async (durationMs) => rate(await closedLoop(durationMs, write, callers)) };
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
