/**
 * The console's views on a big store: a database of its own (`messagedb_console_bench`, created on
 * the server `--url` points at and dropped afterwards) seeded with `--messages` (default 1,000,000)
 * messages in `--categories` (default 1,000) categories of 100 streams each, plus a few consumer
 * position streams; then every view's API is asked `--rounds` times in turn, through a console
 * started in this process, and its server time (the `Server-Timing` the console sends) is reported
 * against the target (300 ms) and against the hand-written equivalent a console without the
 * index walks would run: one GROUP BY over the messages table for the overview.
 *
 * Seeding calls `message_store.write_message` over `generate_series`, in chunks of 20,000 a
 * statement: about a minute per million messages on a small machine.
 *
 * `--keep` leaves the database for another run, which `--reuse` then measures without seeding again.
 *
 * Usage: node --import tsx bench/console.ts --url postgres://postgres@127.0.0.1:5432/postgres [--messages N] [--categories N] [--rounds N] [--keep] [--reuse]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startConsole } from '../src/console/console-server.ts';
import { MessageDbClient, recordPosition, redactConnectionString } from '../src/index.ts';
import { currentLoad } from './environment.ts';

const TARGET_MS = 300;
const DATABASE = 'messagedb_console_bench';
const CHUNK = 20_000;

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    messages: { type: 'string', default: '1000000' },
    categories: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '15' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
  },
});
const adminUrl = values.url ?? process.env.MESSAGE_DB_BENCH_URL;
if (adminUrl === undefined)
  throw new Error('usage: node --import tsx bench/console.ts --url postgres://admin@host/db [--messages N] [--categories N] [--rounds N]');
const messageCount = Number(values.messages);
const categoryCount = Number(values.categories);
const rounds = Number(values.rounds);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const databaseUrl = new URL(adminUrl);
databaseUrl.pathname = `/${DATABASE}`;

async function admin(sql: string): Promise<void> {
  const connection = new pg.Client({ connectionString: adminUrl });
  await connection.connect();
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

const categoryName = (index: number): string => `bench${String(index).padStart(4, '0')}`;

/** Message `i` goes to category `i % categories`, stream `(i / categories) % 100` of it: 100 streams a category. */
function seedStatement(): string {
  return `
SELECT count(message_store.write_message(
         gen_random_uuid()::varchar,
         ('bench' || lpad((i % $3::int)::text, 4, '0') || '-' || ((i / $3::int) % 100))::varchar,
         (CASE i % 4 WHEN 0 THEN 'Opened' WHEN 1 THEN 'Deposited' WHEN 2 THEN 'Withdrawn' ELSE 'Closed' END)::varchar,
         jsonb_build_object('index', i, 'amount', i % 1000))) AS written
  FROM generate_series($1::int, $2::int) AS i`;
}

async function seed(client: MessageDbClient): Promise<void> {
  const started = Date.now();
  for (let from = 0; from < messageCount; from += CHUNK) {
    const to = Math.min(messageCount, from + CHUNK) - 1;
    await client.query(seedStatement(), [from, to, categoryCount]);
    if ((to + 1) % 100_000 === 0 || to + 1 === messageCount)
      log(`  seeded ${(to + 1).toLocaleString('en-US')} messages (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  // Consumers for the consumers view: three alone, and a group of two.
  for (let index = 0; index < 3; index++) await recordPosition(client, `${categoryName(index)}:position-worker`, 1000 * (index + 1));
  for (let member = 0; member < 2; member++) {
    await recordPosition(client, `${categoryName(10)}:position-balances-${member}`, 5000, { consumerGroup: { member, size: 2 } });
  }
  const analyzed = new pg.Client({ connectionString: databaseUrl.toString() });
  await analyzed.connect();
  await analyzed.query('VACUUM ANALYZE message_store.messages');
  await analyzed.end();
}

interface ViewTiming {
  view: string;
  path: string;
  serverMs: number[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function serverMs(base: string, path: string): Promise<number> {
  const response = await fetch(base + path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
  const timing = /dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '')?.[1];
  if (timing === undefined) throw new Error(`${path}: no Server-Timing`);
  return Number(timing);
}

/** The overview a console without the index walks would run: every message, grouped by category. */
const naiveOverview = `
SELECT message_store.category(stream_name) AS category, count(*) AS messages, count(DISTINCT stream_name) AS streams, max(time) AS newest
  FROM message_store.messages GROUP BY 1 ORDER BY 1 LIMIT 50`;

async function main(): Promise<void> {
  log(
    `console bench: ${messageCount.toLocaleString('en-US')} messages in ${categoryCount} categories, database ${DATABASE} on ${redactConnectionString(adminUrl as string)}`,
  );
  if (!values.reuse) {
    await admin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${DATABASE}`);
  }
  const client = await MessageDbClient.connect({ connectionString: databaseUrl.toString(), applicationName: 'messagedb-console-bench' });
  try {
    const seedStarted = Date.now();
    if (!values.reuse) {
      await client.install();
      await seed(client);
    }
    const seedSeconds = values.reuse ? 'earlier' : `in ${Math.round((Date.now() - seedStarted) / 1000)} s`;
    const running = await startConsole({ client, target: redactConnectionString(databaseUrl.toString()) });
    const base = running.url.replace(/\/$/, '');
    const middle = categoryName(Math.floor(categoryCount / 2));
    const stream = `${middle}-7`;
    const [sample] = await client.query('SELECT id::text AS id FROM message_store.messages WHERE stream_name = $1 AND position = 1', [stream], {
      readOnly: true,
    });
    const id = String(sample?.id);
    const views: ViewTiming[] = [
      ['overview (first page)', '/api/overview'],
      ['overview (a middle page)', `/api/overview?after=${middle}`],
      ['category', `/api/categories/${middle}`],
      ['category: streams', `/api/categories/${middle}/streams`],
      ['category: newest messages', `/api/categories/${middle}/messages?limit=20`],
      ['stream: newest first', `/api/streams/${stream}`],
      ['stream: oldest first', `/api/streams/${stream}?direction=forward&position=0`],
      ['message', `/api/streams/${stream}/1`],
      ['message by id', `/api/messages/${id}`],
      ['search: message id', `/api/search?q=${id}`],
      ['search: stream name', `/api/search?q=${stream}`],
      ['consumers', '/api/consumers'],
      ['replicas', '/api/replicas'],
    ].map(([view, path]) => ({ view: view as string, path: path as string, serverMs: [] }));
    for (const timing of views) await serverMs(base, timing.path);
    const tailMs: number[] = [];
    const naiveMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const timing of views) timing.serverMs.push(await serverMs(base, timing.path));
      const tailStarted = performance.now();
      // What each live tail asks every 200 ms: the category's messages after the newest one it showed.
      await client.query(
        `SELECT global_position FROM message_store.messages WHERE message_store.category(stream_name) = $1::text AND global_position > $2::bigint ORDER BY global_position LIMIT 100`,
        [middle, messageCount],
        { readOnly: true },
      );
      tailMs.push(performance.now() - tailStarted);
      if (round < 3) {
        const naiveStarted = performance.now();
        await client.query(naiveOverview, [], { readOnly: true });
        naiveMs.push(performance.now() - naiveStarted);
      }
      log(`  round ${round + 1}/${rounds}`);
    }
    await running.close();
    const overview = median(views[0]?.serverMs ?? []);
    const rows = [
      ...views.map((timing) => ({ view: timing.view, median: median(timing.serverMs), max: Math.max(...timing.serverMs) })),
      { view: 'live tail: one poll (SQL only)', median: median(tailMs), max: Math.max(...tailMs) },
    ];
    const lines = [
      `## The console's views over ${messageCount.toLocaleString('en-US')} messages`,
      '',
      `${messageCount.toLocaleString('en-US')} messages in ${categoryCount.toLocaleString('en-US')} categories of 100 streams, seeded ${seedSeconds}, then VACUUM ANALYZE; ` +
        `${rounds} rounds of every view in turn; server time from the console's Server-Timing header (the view's SQL and JSON), ` +
        `load ${currentLoad().toFixed(1)} at the end. Target: under ${TARGET_MS} ms each.`,
      '',
      '| View | Median ms | Max ms | Median / target |',
      '| --- | ---: | ---: | ---: |',
      ...rows.map((row) => `| ${row.view} | ${row.median.toFixed(1)} | ${row.max.toFixed(1)} | ${(row.median / TARGET_MS).toFixed(2)}x |`),
      '',
      `The hand-written overview (one GROUP BY over the messages table, ${naiveMs.length} runs) took a median of ${median(naiveMs).toFixed(0)} ms: ` +
        `the console's overview takes ${(overview / median(naiveMs)).toFixed(3)}x of it.`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    await client.close();
    if (!values.keep) await admin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  }
}

await main();
