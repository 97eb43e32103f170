/**
 * What parked messages cost a consumer's throughput: one consumer run over the same 10,000 messages
 * (100 streams) with a handler that fails on none of them, against one that fails on 1 in 100 (each
 * parked at once: `onError: { retries: 0, afterRetries: 'dead-letter' }`, so no backoff is timed).
 * Both variants have the same configuration and read the same category; each run has a new
 * identifier, so it starts from the beginning with an empty position and dead-letter stream. Runs
 * alternate in interleaved rounds, and the report gives the median of the per-round ratios of their
 * rates (1% parked over none: below 1 is the cost). Self-contained, on a fresh database that is
 * dropped at the end:
 *
 *   node --import tsx bench/dead-letters.ts --url postgres://postgres@127.0.0.1:5432/postgres [--rounds 5] [--messages 10000] [--json]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Consumer, MessageDbClient, type NewMessage } from '../src/index.ts';

function argument(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

/** The result of the one row, in the shape bench/run.ts renders. */
export interface DeadLetterBenchResult {
  name: string;
  labels: [string, string];
  unit: string;
  /** Messages a second with 1% parked, and with none (medians). */
  a: number;
  b: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  parkedPerRun: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** One consumer run from the start of `category` to its last message; returns messages a second. */
async function run(client: MessageDbClient, category: string, messages: number, last: number, failing: boolean): Promise<number> {
  let reachedEnd!: () => void;
  const end = new Promise<void>((resolve) => {
    reachedEnd = resolve;
  });
  const consumer = new Consumer(client, {
    category,
    identifier: randomBytes(4).toString('hex'),
    onError: { retries: 0, afterRetries: 'dead-letter' },
  }).onAny((message) => {
    if (failing && (message.data as { poison: boolean }).poison) throw new Error('poison');
    if (message.globalPosition === last) reachedEnd();
  });
  const started = performance.now();
  const running = consumer.start();
  await end;
  const elapsed = performance.now() - started;
  await consumer.stop();
  await running;
  if (failing && (await consumer.stats()).deadLetters.parked !== messages / 100) throw new Error('the failing run did not park 1 message in 100');
  return (messages * 1000) / elapsed;
}

async function main(): Promise<void> {
  const url = argument('url', process.env.MESSAGE_DB_URL);
  if (url === undefined) throw new Error('give --url postgres://... (or MESSAGE_DB_URL)');
  const rounds = Number(argument('rounds', '5'));
  const messages = Number(argument('messages', '10000'));
  const json = process.argv.includes('--json');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer (got ${rounds})`);
  if (!Number.isInteger(messages) || messages < 1000) throw new Error(`--messages must be an integer of at least 1000 (got ${messages})`);
  const database = `mdbbench_dead_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const target = new URL(url as string);
  target.pathname = `/${database}`;
  const client = await MessageDbClient.connect({ connectionString: target.toString(), maxPoolSize: 4 });
  const started = new Date().toISOString();
  try {
    await client.install();
    const category = `deadBench${randomBytes(3).toString('hex')}`;
    // 1 in 100 marked poison, never the last one (the run ends when the last is handled).
    const batch: NewMessage[] = Array.from({ length: messages }, (_, index) => ({
      streamName: `${category}-${index % 100}`,
      type: 'Deposited',
      data: { index, amount: index % 50, poison: index % 100 === 50, note: 'a message of some size, as real ones have' },
    }));
    for (let start = 0; start < batch.length; start += 1000) await client.writeMessages(batch.slice(start, start + 1000));
    const last = await client.categoryHead(category);

    // Warm-up: one of each.
    await run(client, category, messages, last, false);
    await run(client, category, messages, last, true);
    const parked: number[] = [];
    const clean: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [true, false] : [false, true];
      for (const failing of order) (failing ? parked : clean).push(await run(client, category, messages, last, failing));
      process.stderr.write(`round ${round + 1}: 1% parked ${parked.at(-1)?.toFixed(0)} msg/s, none ${clean.at(-1)?.toFixed(0)} msg/s\n`);
    }
    const ratios = parked.map((value, index) => value / (clean[index] as number));
    const result: DeadLetterBenchResult = {
      name: `consumer, ${messages.toLocaleString('en-US')} messages, 1% parked`,
      labels: ['1% parked', 'none parked'],
      unit: 'msg/s',
      a: median(parked),
      b: median(clean),
      ratio: median(ratios),
      ratioMin: Math.min(...ratios),
      ratioMax: Math.max(...ratios),
      parkedPerRun: messages / 100,
    };
    const server = (await client.query('SELECT version() AS version'))[0]?.version;
    if (json) {
      console.log(JSON.stringify({ started, rounds, loadavg: loadavg(), server, node: process.version, results: [result] }, null, 2));
      return;
    }
    console.log(
      `dead letters, ${started}, ${rounds} rounds, load ${loadavg()
        .map((value) => value.toFixed(1))
        .join(' ')}, node ${process.version}`,
    );
    console.log(`server: ${server}`);
    console.log('| row | 1% parked | none parked | ratio (median) | min-max |');
    console.log('| --- | ---: | ---: | ---: | --- |');
    console.log(
      `| ${result.name} | ${result.a.toFixed(0)} msg/s | ${result.b.toFixed(0)} msg/s | ${result.ratio.toFixed(2)}x | ${result.ratioMin.toFixed(2)}-${result.ratioMax.toFixed(2)} |`,
    );
  } finally {
    await client.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

/**
 * `npm run bench`'s dead-letters section: this script as a child process with `--json` on the
 * bench's server, rendered as markdown. Its progress goes to `log`.
 */
export async function runDeadLetterBench(url: string, rounds: number, log: (line: string) => void): Promise<string> {
  log('dead letters: a consumer with 1% of its messages parked against none');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--url', url, '--rounds', String(rounds), '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line !== '') log(`  ${line}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`bench/dead-letters.ts exited with ${code}`);
  const { results } = JSON.parse(output.slice(output.indexOf('{'))) as { results: DeadLetterBenchResult[] };
  const rate = (value: number): string => `${Math.round(value).toLocaleString('en-US')} msg/s`;
  return [
    '## Dead letters: what parked messages cost a consumer',
    '',
    `One consumer run over the same messages with a handler that fails on 1 in 100 (each parked at once) against one that fails on none, in ${rounds} interleaved rounds on this server; the ratio is the median of the per-round ratios of their rates (below 1 is the cost). Parking is one round trip per parked message.`,
    '',
    '| row | 1% parked | none parked | ratio | range |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...results.map(
      (row) => `| ${row.name} | ${rate(row.a)} | ${rate(row.b)} | ${row.ratio.toFixed(2)}x | ${row.ratioMin.toFixed(2)}-${row.ratioMax.toFixed(2)} |`,
    ),
    '',
  ].join('\n');
}

// Run as a script (not when bench/run.ts imports the section).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
