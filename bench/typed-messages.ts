/**
 * Typed message rows: what a definition with a zod schema costs against the same work untyped, and
 * what a type filter saves a consumer. Each row runs its two variants in interleaved rounds (slices
 * alternate, and so does which variant goes first) and reports the per-round ratios of their rates
 * (A over B: above 1 is faster). Self-contained, on a fresh database that is dropped at the end:
 *
 *   node --import tsx bench/typed-messages.ts --url postgres://postgres@127.0.0.1:5432/postgres [--rounds 5] [--json]
 *
 * Rows:
 * - single write: `writeMessage({ streamName, ...Deposited.build(data) })` against
 *   `writeMessage({ streamName, type, data })`.
 * - consumer of 10,000 messages: `on(Deposited, handler)` (zod validation per message) against
 *   `on('Deposited', handler)` (target: typed >= 0.8x untyped).
 * - consumer handling 1 type in 10 over 10,000 messages, until caught up: `filter: { types: ['T0'] }`
 *   against no filter (the other nine types read and passed over on the client).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';
import { z } from 'zod';
import { Consumer, MessageDbClient, defineMessage, type NewMessage } from '../src/index.ts';

function argument(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

const url = argument('url', process.env.MESSAGE_DB_URL);
if (url === undefined) throw new Error('give --url postgres://... (or MESSAGE_DB_URL)');
const rounds = Number(argument('rounds', '5'));
const json = process.argv.includes('--json');

const Deposited = defineMessage('Deposited', z.object({ amount: z.number().positive(), currency: z.string().length(3), note: z.string().optional() }), {
  schemaVersion: '2',
  upcast: { '1': (v1: { cents: number }) => ({ amount: v1.cents / 100, currency: 'EUR' }) },
});

interface Variant {
  /** Runs one slice; returns how many operations (writes, messages) it did. */
  run(): Promise<number>;
}

interface Row {
  name: string;
  unit: string;
  slices: number;
  a: Variant;
  b: Variant;
  labels: [string, string];
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** One round: `slices` slices of each variant, alternating which goes first; returns the rate (ops/s) of each. */
async function round(row: Row, aFirst: boolean): Promise<{ a: number; b: number }> {
  const time = { a: 0, b: 0 };
  const ops = { a: 0, b: 0 };
  const slice = async (which: 'a' | 'b'): Promise<void> => {
    const started = performance.now();
    ops[which] += await row[which].run();
    time[which] += performance.now() - started;
  };
  for (let index = 0; index < row.slices; index++) {
    const first = (index % 2 === 0) === aFirst ? 'a' : 'b';
    await slice(first);
    await slice(first === 'a' ? 'b' : 'a');
  }
  return { a: (ops.a * 1000) / time.a, b: (ops.b * 1000) / time.b };
}

async function measure(
  row: Row,
): Promise<{ name: string; unit: string; labels: [string, string]; a: number; b: number; ratio: number; ratioMin: number; ratioMax: number }> {
  await row.a.run();
  await row.b.run();
  const a: number[] = [];
  const b: number[] = [];
  for (let index = 0; index < rounds; index++) {
    const result = await round(row, index % 2 === 0);
    a.push(result.a);
    b.push(result.b);
  }
  const ratios = a.map((value, index) => value / (b[index] as number));
  return {
    name: row.name,
    unit: row.unit,
    labels: row.labels,
    a: median(a),
    b: median(b),
    ratio: median(ratios),
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
  };
}

/** Run a consumer from the start of `category` until `done` says it has caught up; returns the messages it handled. */
async function consume(
  client: MessageDbClient,
  category: string,
  setUp: (consumer: Consumer, count: () => void) => Consumer,
  done: (handled: number, consumer: Consumer) => boolean,
  filter?: { types: string[] },
): Promise<number> {
  let handled = 0;
  const consumer = setUp(
    new Consumer(client, { category, identifier: randomBytes(4).toString('hex'), pollIntervalMs: 1, ...(filter === undefined ? {} : { filter }) }),
    () => {
      handled++;
    },
  );
  const running = consumer.start();
  while (!done(handled, consumer)) await new Promise((resolve) => setTimeout(resolve, 1));
  await consumer.stop();
  await running;
  return handled;
}

async function main(): Promise<void> {
  const database = `mdbbench_typed_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const target = new URL(url as string);
  target.pathname = `/${database}`;
  const client = await MessageDbClient.connect({ connectionString: target.toString(), maxPoolSize: 4 });
  try {
    await client.install();
    const run = randomBytes(3).toString('hex');

    // Consumer data: 10,000 Deposited of the current version.
    const depositCategory = `typedDeposits${run}`;
    const deposits: NewMessage[] = Array.from({ length: 10_000 }, (_, index) => ({
      streamName: `${depositCategory}-${index % 100}`,
      ...Deposited.build({ amount: 1 + (index % 50), currency: 'EUR', note: 'deposit' }),
    }));
    for (let start = 0; start < deposits.length; start += 1000) await client.writeMessages(deposits.slice(start, start + 1000));

    // Filter data: 10,000 messages of 10 types in turn, of which the consumer handles T0.
    const mixedCategory = `typedMixed${run}`;
    const mixed: NewMessage[] = Array.from({ length: 10_000 }, (_, index) => ({
      streamName: `${mixedCategory}-${index % 100}`,
      type: `T${index % 10}`,
      data: { index, amount: index % 50, note: 'a message of some size, as real ones have' },
    }));
    for (let start = 0; start < mixed.length; start += 1000) await client.writeMessages(mixed.slice(start, start + 1000));

    const writeCategory = `typedWrites${run}`;
    let written = 0;
    const writes = (typed: boolean): Variant => ({
      run: async () => {
        for (let index = 0; index < 200; index++) {
          const streamName = `${writeCategory}-${written++ % 100}`;
          const data = { amount: 5, currency: 'EUR', note: 'deposit' };
          await client.writeMessage(typed ? { streamName, ...Deposited.build(data) } : { streamName, type: 'Deposited', data });
        }
        return 200;
      },
    });

    let sink = 0;
    const allHandled = (handled: number): boolean => handled >= 10_000;
    const caughtUp = (handled: number, consumer: Consumer): boolean => handled >= 1000 && consumer.state === 'live';
    const rows: Row[] = [
      { name: 'single write', unit: 'writes/s', slices: 3, labels: ['typed (build)', 'untyped'], a: writes(true), b: writes(false) },
      {
        name: 'consumer, 10,000 messages, zod schema',
        unit: 'messages/s',
        slices: 1,
        labels: ['on(Deposited)', "on('Deposited')"],
        a: {
          run: () =>
            consume(
              client,
              depositCategory,
              (consumer, count) =>
                consumer.on(Deposited, (message) => {
                  sink += message.data.amount;
                  count();
                }),
              allHandled,
            ),
        },
        b: {
          run: () =>
            consume(
              client,
              depositCategory,
              (consumer, count) =>
                consumer.on<{ amount: number }>('Deposited', (message) => {
                  sink += message.data.amount;
                  count();
                }),
              allHandled,
            ),
        },
      },
      {
        name: 'consumer handling 1 type in 10, 10,000 messages, until caught up',
        unit: 'handled/s',
        slices: 1,
        labels: ["filter: { types: ['T0'] }", 'no filter'],
        a: { run: () => consume(client, mixedCategory, (consumer, count) => consumer.on('T0', () => count()), caughtUp, { types: ['T0'] }) },
        b: { run: () => consume(client, mixedCategory, (consumer, count) => consumer.on('T0', () => count()), caughtUp) },
      },
    ];

    const started = new Date().toISOString();
    const results = [];
    for (const row of rows) results.push(await measure(row));
    if (sink < 0) console.log(sink);
    const server = (await client.query('SELECT version() AS version'))[0]?.version;
    if (json) {
      console.log(JSON.stringify({ started, rounds, loadavg: loadavg(), server, node: process.version, results }, null, 2));
      return;
    }
    console.log(
      `typed messages, ${started}, ${rounds} rounds, load ${loadavg()
        .map((value) => value.toFixed(1))
        .join(' ')}, node ${process.version}`,
    );
    console.log(`server: ${server}`);
    console.log('| row | A | B | A rate | B rate | A/B (median) | min-max |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const result of results) {
      console.log(
        `| ${result.name} | ${result.labels[0]} | ${result.labels[1]} | ${result.a.toFixed(0)} ${result.unit} | ${result.b.toFixed(0)} ${result.unit} | ${result.ratio.toFixed(2)}x | ${result.ratioMin.toFixed(2)}-${result.ratioMax.toFixed(2)} |`,
      );
    }
  } finally {
    await client.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
