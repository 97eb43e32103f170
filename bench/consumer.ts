/**
 * Consumer rows. Throughput: a fresh category is loaded with `consumerMessages` messages (not
 * timed), then a consumer with its default settings is timed from `start()` until its handler has
 * seen every one; that includes reading its position and recording it every 100 messages (the
 * Eventide default). Latency: with the NOTIFY trigger installed and `listen: true`, one message
 * is written every 5 ms, and the time from just before `writeMessage` to the handler is recorded.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Consumer, MessageDbClient } from '../src/index.ts';
import { percentile, type Workload } from './measure.ts';
import { countdown, seedCategory, seededType } from './seed.ts';
import { analyze } from './server.ts';

/** Messages each consumer throughput run reads. */
export const consumerMessages = 10_000;

export interface ConsumerRow {
  label: string;
  p50Ms: number;
  p99Ms: number;
  /** The write's own round trip (commit included), which the latency contains. */
  writeP50Ms: number;
  writeP99Ms: number;
  messages: number;
  target?: string;
}

/** A fresh category loaded with `count` seeded messages. */
export async function seededCategory(url: string, prefix: string, count = consumerMessages): Promise<string> {
  const category = `${prefix}${randomBytes(4).toString('hex')}`;
  await seedCategory(url, category, count);
  return category;
}

/**
 * `client.consumer`: messages per second of a Consumer reading a seeded category from the start,
 * with its defaults, or with the position recorded every `positionUpdateInterval` messages.
 */
export function consumerWorkload(client: MessageDbClient, url: string, positionUpdateInterval?: number): Workload {
  return {
    key: positionUpdateInterval === undefined ? 'client.consumer' : `client.consumer-${positionUpdateInterval}`,
    whole: true,
    run: async () => {
      const category = await seededCategory(url, 'consume');
      const { tick, finished } = countdown(consumerMessages);
      const consumer = new Consumer(client, { category, identifier: 'bench', positionUpdateInterval }).on(seededType, tick);
      const started = performance.now();
      const running = consumer.start();
      await Promise.race([finished, running]);
      const elapsedMs = performance.now() - started;
      await consumer.stop();
      await running;
      return (consumerMessages * 1000) / elapsedMs;
    },
  };
}

/** Write one message every `intervalMs` for `count` messages; returns each write-to-handler latency and each write's duration, in ms. */
async function latencies(client: MessageDbClient, listen: boolean, count: number, intervalMs: number): Promise<{ measured: number[]; writes: number[] }> {
  const category = `latency${randomBytes(4).toString('hex')}`;
  const sentAt = new Map<string, number>();
  const measured: number[] = [];
  const writes: number[] = [];
  const { tick, finished } = countdown(count);
  const consumer = new Consumer(client, { category, identifier: 'bench', listen }).on('Pinged', (message) => {
    const sent = sentAt.get(message.id);
    if (sent !== undefined) measured.push(performance.now() - sent);
    tick();
  });
  const running = consumer.start();
  // Let the consumer read its (empty) position and start listening before the clock matters.
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let index = 0; index < count; index++) {
    const id = randomUUID();
    const sent = performance.now();
    sentAt.set(id, sent);
    await client.writeMessage({ id, streamName: `${category}-${index % 10}`, type: 'Pinged', data: { index } });
    writes.push(performance.now() - sent);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  await Promise.race([finished, running, new Promise((resolve) => setTimeout(resolve, 5000))]);
  await consumer.stop();
  await running;
  return { measured, writes };
}

function row(label: string, { measured, writes }: { measured: number[]; writes: number[] }, target?: string): ConsumerRow {
  return {
    label,
    p50Ms: percentile(measured, 50),
    p99Ms: percentile(measured, 99),
    writeP50Ms: percentile(writes, 50),
    writeP99Ms: percentile(writes, 99),
    messages: measured.length,
    ...(target === undefined ? {} : { target }),
  };
}

/** Write-to-handler latency with `listen: true` (needs the NOTIFY trigger) and with polling alone. */
export async function runConsumerLatency(url: string, log: (line: string) => void): Promise<ConsumerRow[]> {
  const client = await MessageDbClient.connect({ connectionString: url, applicationName: 'messagedb-bench' });
  const rows: ConsumerRow[] = [];
  try {
    await analyze(url);
    await client.installNotifyTrigger();
    try {
      rows.push(row('Consumer, `listen: true` (NOTIFY trigger)', await latencies(client, true, 600, 5), 'p99 < 20 ms'));
    } finally {
      // The trigger sends a NOTIFY on every write: leave no trace of it for later sections.
      await client.uninstallNotifyTrigger();
    }
    rows.push(row('Consumer, polling (pollIntervalMs 100, the default)', await latencies(client, false, 200, 5)));
    for (const each of rows) {
      log(`  ${each.label}: p50 ${each.p50Ms.toFixed(1)} ms, p99 ${each.p99Ms.toFixed(1)} ms (the write alone: p99 ${each.writeP99Ms.toFixed(1)} ms) over ${each.messages} messages`);
    }
  } finally {
    await client.close();
  }
  return rows;
}
