/**
 * Consumer workloads. Throughput: a fresh category is loaded with `consumerMessages` messages (not
 * timed; by default rows like those the `r_cat_full` anchor reads, see seed.ts), then a consumer with
 * its default settings is timed from `start()` until its handler has seen every one; that includes
 * reading its position and recording it every 100 messages (the Eventide default). Latency: one
 * message is written every 5 ms, and the time from just before `writeMessage` to the handler is
 * recorded, with `listen: true` (the NOTIFY trigger installed) and with polling alone.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { MessageDbClient } from '../../store/client.js';
import { Consumer } from '../../consumer/consumer.js';
import { installNotifyTrigger, uninstallNotifyTrigger } from '../../consumer/notify-trigger.js';
import { percentile, type Workload } from './measure.js';
import { countdown, seedCategory, seededType, type SeedShape, type SeedTarget } from './seed.js';

/** Messages each consumer throughput run reads. */
export const consumerMessages = 10_000;

/** Write-to-handler latency of one way of waking a consumer, in ms. */
export interface ConsumerRow {
  label: string;
  /** Woken by the NOTIFY trigger (`listen: true`), or by polling alone. */
  listen: boolean;
  p50Ms: number;
  p99Ms: number;
  /** The write's own round trip (commit included), which the latency contains. */
  writeP50Ms: number;
  writeP99Ms: number;
  messages: number;
  target?: string;
}

/** A fresh category loaded with `count` seeded messages of `shape`. */
export async function seededCategory(target: SeedTarget, prefix: string, count = consumerMessages, shape: SeedShape = 'anchor'): Promise<string> {
  const category = `${prefix}${randomBytes(4).toString('hex')}`;
  await seedCategory(target, category, count, shape);
  return category;
}

/** How a consumer throughput workload runs; the defaults are the consumer's and the anchor's rows. */
export interface ConsumerWorkloadOptions {
  positionUpdateInterval?: number;
  /** What the seeded messages hold (seed.ts); `single` adds a row of its own (`client.consumer-single`). */
  shape?: SeedShape;
  signal?: AbortSignal;
}

/** Resolves when `signal` fires (never without one), so a wait can be raced against Ctrl-C. */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * `client.consumer`: messages per second of a Consumer reading a seeded category from the start,
 * with its defaults, or with the position recorded every `positionUpdateInterval` messages
 * (`client.consumer-<interval>`), or over the heavier `single` rows (`client.consumer-single`). The
 * category is seeded through `seed` (the database's URL, or the client on an embedded database).
 */
export function consumerWorkload(client: MessageDbClient, seed: SeedTarget, options: ConsumerWorkloadOptions = {}): Workload {
  const { positionUpdateInterval, shape = 'anchor', signal } = options;
  const suffix = [positionUpdateInterval, shape === 'anchor' ? undefined : shape].filter((part) => part !== undefined).join('-');
  return {
    key: suffix === '' ? 'client.consumer' : `client.consumer-${suffix}`,
    whole: true,
    run: async () => {
      const category = await seededCategory(seed, 'consume', consumerMessages, shape);
      const { tick, finished } = countdown(consumerMessages);
      const consumer = new Consumer(client, { category, identifier: 'bench', positionUpdateInterval }).on(seededType, tick);
      const started = performance.now();
      const running = consumer.start();
      await Promise.race([finished, running, aborted(signal)]);
      const elapsedMs = performance.now() - started;
      await consumer.stop();
      await running;
      signal?.throwIfAborted();
      return (consumerMessages * 1000) / elapsedMs;
    },
  };
}

/** Write one message every `intervalMs` for `count` messages; returns each write-to-handler latency and each write's duration, in ms. */
async function latencies(
  client: MessageDbClient,
  listen: boolean,
  count: number,
  intervalMs: number,
  signal: AbortSignal | undefined,
): Promise<{ measured: number[]; writes: number[] }> {
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
  try {
    // Let the consumer read its (empty) position and start listening before the clock matters.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let index = 0; index < count && signal?.aborted !== true; index++) {
      const id = randomUUID();
      const sent = performance.now();
      sentAt.set(id, sent);
      await client.writeMessage({ id, streamName: `${category}-${index % 10}`, type: 'Pinged', data: { index } });
      writes.push(performance.now() - sent);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    await Promise.race([finished, running, aborted(signal), new Promise((resolve) => setTimeout(resolve, 5000))]);
  } finally {
    await consumer.stop();
    await running;
  }
  signal?.throwIfAborted();
  return { measured, writes };
}

function row(label: string, listen: boolean, { measured, writes }: { measured: number[]; writes: number[] }, target?: string): ConsumerRow {
  return {
    label,
    listen,
    p50Ms: percentile(measured, 50),
    p99Ms: percentile(measured, 99),
    writeP50Ms: percentile(writes, 50),
    writeP99Ms: percentile(writes, 99),
    messages: measured.length,
    ...(target === undefined ? {} : { target }),
  };
}

/** How many messages each latency run writes (5 ms apart), and what stops it early. */
export interface ConsumerLatencyOptions {
  listenMessages?: number;
  pollingMessages?: number;
  signal?: AbortSignal;
}

/**
 * Write-to-handler latency with `listen: true` and with polling alone. The NOTIFY trigger is
 * installed for the first and removed afterwards: it sends a NOTIFY on every write, so it must
 * leave no trace for what is measured later.
 */
export async function runConsumerLatency(
  client: MessageDbClient,
  log: (line: string) => void,
  { listenMessages = 600, pollingMessages = 200, signal }: ConsumerLatencyOptions = {},
): Promise<ConsumerRow[]> {
  const rows: ConsumerRow[] = [];
  await installNotifyTrigger(client);
  try {
    rows.push(row('Consumer, `listen: true` (NOTIFY trigger)', true, await latencies(client, true, listenMessages, 5, signal), 'p99 < 20 ms'));
  } finally {
    await uninstallNotifyTrigger(client);
  }
  rows.push(row('Consumer, polling (pollIntervalMs 100, the default)', false, await latencies(client, false, pollingMessages, 5, signal)));
  for (const each of rows) {
    log(
      `  ${each.label}: p50 ${each.p50Ms.toFixed(1)} ms, p99 ${each.p99Ms.toFixed(1)} ms (the write alone: p99 ${each.writeP99Ms.toFixed(1)} ms) over ${each.messages} messages`,
    );
  }
  return rows;
}
