/**
 * The figures docs/tuning.md rests on that the other sections do not measure: the read batch size
 * (10, 100, 1000 messages a call, against pgbench's `r_cat_full` anchor), the consumer's
 * `positionUpdateInterval` (10, 100, 1000: throughput against the replay bound), and what a
 * kilobyte of message costs to write and to read (messages of 0.1, 1, 10 and 50 KiB), and a
 * consumer's `concurrency` (1 and 8) with a handler that waits a millisecond a message, and reads at a
 * category's head on statistics older than the writes since (in a database of their own). All on one
 * fresh database, in interleaved rounds (src/cli/bench/measure.ts: compared workloads take turns in
 * short slices, the order rotated and reversed from round to round), so each ratio is the median of
 * per-round ratios, with its range.
 *
 * Usage: node --import tsx bench/tuning.ts [--url postgres://admin@host/db] [--rounds N] [--seconds S] [--json]
 * (or `npm run bench -- --only tuning --url ...`).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { seedReads } from '../src/cli/bench/client-workloads.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { consumerWorkload, seededCategory } from '../src/cli/bench/consumer.ts';
import { countdown, seededType } from '../src/cli/bench/seed.ts';
import { randomId } from '../src/cli/bench/fixtures.ts';
import { closedLoop, interleave, median, rate, warmUp, type Rounds, type Workload } from '../src/cli/bench/measure.ts';
import { anchorScripts, Pgbench, pgbenchVersion } from '../src/cli/bench/pgbench.ts';
import { Consumer, MessageDbClient } from '../src/index.ts';
import { currentLoad } from './environment.ts';
import { createBenchDatabase } from './server.ts';

export const concurrencies = [1, 8];
/** Messages a concurrency run handles, and how long its handler waits on each (standing in for a call to another service). */
const concurrencyMessages = 2000;
const handlerWaitMs = 1;
export const readBatchSizes = [10, 100, 1000];
export const positionUpdateIntervals = [10, 100, 1000];
/** Message sizes in bytes of data (as JSON text, about). */
export const messageSizes = [100, 1024, 10 * 1024, 50 * 1024];
const sizedMessages = 200;
const writeBatch = 10;
const readBatch = 100;

export interface TuningResult {
  server: string;
  rounds: number;
  seconds: number;
  loadAtStart: number;
  loadAtEnd: number;
  /** Messages per second of each workload, one per round. */
  rates: Record<string, number[]>;
}

const sizeLabel = (bytes: number): string => (bytes < 1024 ? `${bytes} B` : `${bytes / 1024} KiB`);
const dataOf = (bytes: number): { text: string } => ({ text: 'x'.repeat(Math.max(0, bytes - 11)) });

/** `count` messages of about `bytes` of data in a fresh category, inserted in one statement. */
async function seedSized(url: string, bytes: number, count: number): Promise<string> {
  const category = `sized${randomId()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(
      `INSERT INTO message_store.messages (id, stream_name, type, position, data)
       SELECT gen_random_uuid(), $1::text || '-' || (n % 10), 'Sized', n / 10, $3::jsonb FROM generate_series(0, $2::int - 1) AS n ORDER BY n`,
      [category, count, JSON.stringify(dataOf(bytes))],
    );
    await admin.query('ANALYZE message_store.messages');
  } finally {
    await admin.end();
  }
  return category;
}

/**
 * Read `category` from its start in batches of `batchSize`, going round at its head: never a read past
 * the head, which on statistics older than the category's writes is a plan of its own (see staleHeadReads).
 */
function categoryReader(client: MessageDbClient, key: string, category: string, batchSize: number): Workload {
  let position = 0;
  let head: number | undefined;
  const read = async (): Promise<number> => {
    head ??= await client.categoryHead(category);
    const messages = await client.getCategoryMessages(category, { position, batchSize });
    const last = messages.at(-1);
    position = last === undefined || last.globalPosition >= (head ?? 0) ? 0 : last.globalPosition + 1;
    return messages.length;
  };
  return { key, run: async (durationMs) => rate(await closedLoop(durationMs, read)) };
}

/** Messages of other categories written between the analyze and the stale reads. */
const staleMessages = 100_000;

/**
 * Reads at a category's head (what a caught-up consumer's poll is: nothing there yet) per second, on
 * a fresh database: analyzed while the category was the whole table, then after `staleMessages`
 * messages of other categories, then analyzed again. Each state is measured `rounds` times for
 * `seconds`; the states cannot alternate, since writing and analyzing change them.
 */
async function staleHeadReads(url: string | undefined, rounds: number, seconds: number, log: (line: string) => void): Promise<Record<string, number[]>> {
  const database = await createBenchDatabase(url);
  const client = await MessageDbClient.connect({ connectionString: database.url, applicationName: 'messagedb-bench' });
  try {
    await seedReads(client);
    await client.query('ANALYZE message_store.messages');
    const head = await client.categoryHead('batch');
    const poll = async (): Promise<number> => {
      await client.getCategoryMessages('batch', { position: head + 1, batchSize: 1000 });
      return 1;
    };
    const measure = async (key: string): Promise<number[]> => {
      const values: number[] = [];
      for (let round = 0; round < rounds; round++) values.push(rate(await closedLoop(seconds * 1000, poll)));
      log(`  ${key.padEnd(22)} ${values.map((value) => Math.round(value).toLocaleString('en-US')).join(', ')} reads/s`);
      return values;
    };
    const analyzed = await measure('head-analyzed');
    for (let from = 0; from < staleMessages; from += 10_000) await seededCategory(database.url, 'other', 10_000);
    const stale = await measure('head-stale');
    await client.query('ANALYZE message_store.messages');
    const reanalyzed = await measure('head-reanalyzed');
    return { 'head-analyzed': analyzed, 'head-stale': stale, 'head-reanalyzed': reanalyzed };
  } finally {
    await client.close();
    await database.drop();
  }
}

function sizedWriter(client: MessageDbClient, bytes: number): Workload {
  const data = dataOf(bytes);
  const write = async (): Promise<number> => {
    const streamName = `write${randomId()}-${randomId()}`;
    await client.writeMessages(Array.from({ length: writeBatch }, () => ({ streamName, type: 'Sized', data })));
    return writeBatch;
  };
  return { key: `write-${bytes}`, run: async (durationMs) => rate(await closedLoop(durationMs, write)) };
}

/** A consumer whose handler waits `handlerWaitMs` per message, at `concurrency`: messages per second over a fresh seeded category. */
function concurrentConsumer(client: MessageDbClient, url: string, concurrency: number): Workload {
  return {
    key: `concurrency-${concurrency}`,
    whole: true,
    run: async () => {
      const category = await seededCategory(url, 'concurrent', concurrencyMessages);
      const { tick, finished } = countdown(concurrencyMessages);
      const consumer = new Consumer(client, { category, identifier: 'bench', concurrency }).on(seededType, async () => {
        await sleep(handlerWaitMs);
        tick();
      });
      const started = performance.now();
      const running = consumer.start();
      await Promise.race([finished, running]);
      const elapsedMs = performance.now() - started;
      await consumer.stop();
      await running;
      return (concurrencyMessages * 1000) / elapsedMs;
    },
  };
}

export async function runTuningBench(url: string | undefined, rounds: number, seconds: number, log: (line: string) => void): Promise<TuningResult> {
  const database = await createBenchDatabase(url);
  const loadAtStart = currentLoad();
  const client = await MessageDbClient.connect({ connectionString: database.url, applicationName: 'messagedb-bench' });
  const pgbench = (await pgbenchVersion()) === undefined ? undefined : new Pgbench(database.url);
  try {
    log(`tuning: ${database.description} on ${database.server}`);
    await seedReads(client);
    const reads = readBatchSizes.map((size) => categoryReader(client, `read-${size}`, 'batch', size));
    const consumers = positionUpdateIntervals.map((interval) => ({
      ...consumerWorkload(client, database.url, { positionUpdateInterval: interval }),
      key: `consumer-${interval}`,
    }));
    const concurrent = concurrencies.map((concurrency) => concurrentConsumer(client, database.url, concurrency));
    const writes = messageSizes.map((bytes) => sizedWriter(client, bytes));
    const sizedReads: Workload[] = [];
    for (const bytes of messageSizes)
      sizedReads.push(categoryReader(client, `read-sized-${bytes}`, await seedSized(database.url, bytes, sizedMessages), readBatch));
    const groups: Workload[][] = [
      [...reads, ...(pgbench === undefined ? [] : [pgbench.workload(anchorScripts.r_cat_full)])],
      consumers,
      concurrent,
      writes,
      sizedReads,
    ];
    await warmUp(groups.flat());
    const measured: Rounds = await interleave(groups, rounds, seconds * 1000, (key, round, value) =>
      log(`  round ${round + 1} ${key.padEnd(22)} ${Math.round(value).toLocaleString('en-US').padStart(10)} msg/s`),
    );
    log('tuning: reads at a category head on stale statistics');
    const stale = await staleHeadReads(url, rounds, seconds, log);
    return { server: database.server, rounds, seconds, loadAtStart, loadAtEnd: currentLoad(), rates: { ...Object.fromEntries(measured), ...stale } };
  } finally {
    pgbench?.close();
    await client.close();
    await database.drop();
  }
}

/** Per-round values of `f(round)`, where every key it reads has a value in that round. */
function perRound(result: TuningResult, f: (rate: (key: string) => number) => number): number[] {
  const values: number[] = [];
  for (let round = 0; round < result.rounds; round++) {
    const value = f((key) => result.rates[key]?.[round] ?? Number.NaN);
    if (Number.isFinite(value)) values.push(value);
  }
  return values;
}

const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const summary = (values: number[], digits = 2, unit = 'x'): string =>
  values.length === 0 ? '—' : `${fixed(median(values), digits)}${unit} (${fixed(Math.min(...values), digits)}-${fixed(Math.max(...values), digits)})`;
const rateOf = (result: TuningResult, key: string): string => Math.round(median(result.rates[key] ?? [])).toLocaleString('en-US');

/** Least-squares slope of µs per message against KiB, over the sizes: the cost of one more KiB. */
function microsecondsPerKiB(rate: (key: string) => number, prefix: string): number {
  const points = messageSizes.map((bytes) => [bytes / 1024, 1e6 / rate(`${prefix}${bytes}`)] as const);
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return covariance / variance;
}

/** The section's markdown for BENCHMARKS.md. */
export function tuningMarkdown(result: TuningResult): string {
  const lines = [
    '## Tuning: batch sizes, position update interval, message size (`bench/tuning.ts`)',
    '',
    `On ${result.server}; ${result.rounds} interleaved rounds of ${result.seconds} s a workload; load average ${fixed(result.loadAtStart, 1)} at the start, ` +
      `${fixed(result.loadAtEnd, 1)} at the end. Ratios are medians of per-round ratios, with their range.`,
    '',
    '| workload | msg/s | against | ratio (range) |',
    '| --- | ---: | --- | ---: |',
  ];
  for (const size of readBatchSizes) {
    lines.push(
      `| category read, batchSize ${size} | ${rateOf(result, `read-${size}`)} | pgbench \`r_cat_full\` (${rateOf(result, 'pgbench.r_cat_full')} msg/s) | ${summary(perRound(result, (r) => r(`read-${size}`) / r('pgbench.r_cat_full')))} |`,
    );
  }
  for (const interval of positionUpdateIntervals) {
    lines.push(
      `| consumer, positionUpdateInterval ${interval} (replays at most ${interval} after a crash) | ${rateOf(result, `consumer-${interval}`)} | the default, 100 | ${summary(perRound(result, (r) => r(`consumer-${interval}`) / r('consumer-100')))} |`,
    );
  }
  for (const concurrency of concurrencies) {
    lines.push(
      `| consumer, concurrency ${concurrency}, a handler that waits ${handlerWaitMs} ms a message | ${rateOf(result, `concurrency-${concurrency}`)} | concurrency 1 | ${summary(perRound(result, (r) => r(`concurrency-${concurrency}`) / r('concurrency-1')))} |`,
    );
  }
  for (const bytes of messageSizes) {
    lines.push(
      `| write, batches of ${writeBatch}, ${sizeLabel(bytes)} of data | ${rateOf(result, `write-${bytes}`)} | ${sizeLabel(messageSizes[0] as number)} messages | ${summary(perRound(result, (r) => r(`write-${bytes}`) / r(`write-${messageSizes[0]}`)))} |`,
    );
  }
  for (const bytes of messageSizes) {
    lines.push(
      `| category read, batches of ${readBatch}, ${sizeLabel(bytes)} of data | ${rateOf(result, `read-sized-${bytes}`)} | ${sizeLabel(messageSizes[0] as number)} messages | ${summary(perRound(result, (r) => r(`read-sized-${bytes}`) / r(`read-sized-${messageSizes[0]}`)))} |`,
    );
  }
  const head = (key: string): string =>
    `${rateOf(result, key)} (${Math.round(Math.min(...(result.rates[key] ?? []))).toLocaleString('en-US')}-${Math.round(Math.max(...(result.rates[key] ?? []))).toLocaleString('en-US')})`;
  lines.push(
    '',
    `Reads at a category's head (a caught-up consumer's poll), a second, in a database of their own: analyzed while the category was the table ${head('head-analyzed')}; ` +
      `after ${staleMessages.toLocaleString('en-US')} messages of other categories, not analyzed ${head('head-stale')}; analyzed again ${head('head-reanalyzed')} ` +
      `(medians of ${result.rounds} runs of ${result.seconds} s, with their range; the states cannot alternate).`,
    '',
    `Cost of one more KiB of data (least-squares slope of µs a message against size, per round): written ${summary(
      perRound(result, (r) => microsecondsPerKiB(r, 'write-')),
      1,
      ' µs',
    )}, ` +
      `read ${summary(
        perRound(result, (r) => microsecondsPerKiB(r, 'read-sized-')),
        1,
        ' µs',
      )}.`,
    '',
  );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '1' }, json: { type: 'boolean' } },
  });
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const result = await runTuningBench(values.url ?? process.env.MESSAGE_DB_BENCH_URL, Number(values.rounds), Number(values.seconds), log);
  process.stdout.write(values.json === true ? `${JSON.stringify(result)}\n` : `${tuningMarkdown(result)}\n`);
}
