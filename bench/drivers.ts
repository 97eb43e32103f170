/**
 * `npm run bench:drivers`: the raw drivers doing Message DB's statements the way an engine would,
 * beside the current client and pgbench's anchors, in one run of interleaved rounds, so the choice
 * of a driver for the server engine is measured rather than guessed. Each driver sends the client's
 * own SQL texts (src/vocabulary/sql.ts) as prepared statements on connections that carry
 * `search_path` in their startup packet:
 *
 * - `pg`: node-postgres through its public API only: named statements, `rowMode: 'array'`, a type
 *   parser that hands back the server's text, rows from the result;
 * - `postgres`: postgres.js, `sql.unsafe(text, values, { prepare: true })`, rows with `.values()`
 *   (its own type parsing; or with int8 and timestamp left as text by its `types` option) or `.raw()`
 *   (the column bytes, decoded here like the other raw rows);
 * - `client`: this package's MessageDbClient, imported from the build (dist/), whatever engine it has.
 *
 * Workloads: a single write, a batch of 100 (one statement over unnested arrays, as writeMessages
 * sends it), 1000-message stream and category reads decoded into messages, and 8 concurrent single
 * writes on one connection (node-postgres queues them; postgres.js pipelines them).
 *
 * Usage: npm run build && npm run bench:drivers -- [--url postgres://admin@host/db] [--rounds N] [--seconds S]
 *        [--baseline DIR] (another checkout's build, DIR/dist/index.js, as one more column: an engine before and after)
 * (default URL: the machine's PostgreSQL at 127.0.0.1:5432; a fresh database is created and dropped).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import type * as Package from '../src/index.ts';
import { analyze, createBenchDatabase } from '../src/cli/bench/bench-database.ts';
import { seedReads } from '../src/cli/bench/client-workloads.ts';
import * as fixtures from '../src/cli/bench/fixtures.ts';
import { closedLoop, groupWorkloads, interleave, median, pairedRatio, rate, warmUp, type Rounds, type Workload } from '../src/cli/bench/measure.ts';
import { anchorScripts, Pgbench, pgbenchVersion } from '../src/cli/bench/pgbench.ts';
import * as sql from '../src/vocabulary/sql.ts';
import { describeEnvironment, packageVersion } from './environment.ts';
import { formatRate, formatRatio } from './report.ts';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.MESSAGE_DB_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    baseline: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const callers = 8;
const batchSize = 100;

/** A message as the client returns it, decoded from the eight text columns of a read. */
interface DecodedMessage {
  id: string;
  streamName: string;
  type: string;
  position: number;
  globalPosition: number;
  data: unknown;
  metadata: unknown;
  time: Date;
}

/** `2026-12-02 20:51:52.123456` (timestamp without time zone, ISO DateStyle) read as UTC. */
const utc = (text: string): Date => new Date(`${text.replace(' ', 'T')}Z`);

function decode(row: readonly (string | null)[]): DecodedMessage {
  const [id, streamName, type, position, globalPosition, data, metadata, time] = row as string[];
  return {
    id: id as string,
    streamName: streamName as string,
    type: type as string,
    position: Number(position),
    globalPosition: Number(globalPosition),
    data: data === null ? null : JSON.parse(data as string),
    metadata: metadata === null ? null : JSON.parse(metadata as string),
    time: utc(time as string),
  };
}

const singleValues = (): unknown[] => {
  const message = fixtures.singleMessage();
  return [randomUUID(), message.streamName, message.type, JSON.stringify(message.data), JSON.stringify(message.metadata), null];
};

/** The six arrays (and the expected version) of writeMessages' statement for a batch. */
function batchValues(): unknown[] {
  const messages = fixtures.batchMessages(batchSize);
  return [
    messages.map(() => randomUUID()),
    messages.map((message) => message.streamName),
    messages.map((message) => message.type),
    messages.map((message) => JSON.stringify(message.data)),
    messages.map(() => null),
    null,
  ];
}

const streamReadValues = [fixtures.readStreamName, 0, fixtures.readBatchSize, null];
const categoryReadValues = [fixtures.readCategory, 1, fixtures.readBatchSize, null, null, null, null];

/** One caller running `operation` back to back, or `concurrency` of them. */
const loop = (key: string, operation: () => Promise<number>, concurrency = 1): Workload => ({
  key,
  run: async (durationMs) => rate(await closedLoop(durationMs, operation, concurrency)),
});

/** The workloads of one contender, keyed `<contender>.<workload>`. */
interface Contender {
  workloads: Workload[];
  close(): Promise<void>;
}

const startup = { application_name: 'messagedb-bench-drivers' };

async function openPg(url: string): Promise<Contender> {
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url, ...startup, options: '-c search_path=message_store,public' });
    await client.connect();
    return client;
  };
  const [single, concurrent] = [await connect(), await connect()];
  const identity = { getTypeParser: () => (value: string) => value };
  const query = (client: pg.Client, statement: sql.Statement, values: unknown[]): Promise<pg.QueryArrayResult<(string | null)[]>> =>
    client.query({ name: statement.name, text: statement.text, values, rowMode: 'array', types: identity });
  const write = (client: pg.Client) => async (): Promise<number> => {
    await query(client, sql.writeMessage, singleValues());
    return 1;
  };
  return {
    workloads: [
      loop('pg.single-write', write(single)),
      loop('pg.batch-100', async () => (await query(single, sql.writeMessages, batchValues())).rows.length),
      loop('pg.stream-read', async () => (await query(single, sql.getStreamMessages, streamReadValues)).rows.map(decode).length),
      loop('pg.category-read', async () => (await query(single, sql.getCategoryMessages, categoryReadValues)).rows.map(decode).length),
      loop(`pg.concurrent-${callers}`, write(concurrent), callers),
    ],
    close: async () => {
      await Promise.all([single.end(), concurrent.end()]);
    },
  };
}

async function openPostgresJs(url: string): Promise<Contender> {
  const connect = (types: Record<string, postgres.PostgresType> = {}): postgres.Sql =>
    postgres(url, { max: 1, connection: { ...startup, search_path: 'message_store,public' }, onnotice: () => {}, types });
  const [single, concurrent] = [connect(), connect()];
  // The same driver with bigint and timestamp columns left as the server's text (parsed by `decode`),
  // as an engine that tunes postgres.js' type parsing would read them.
  const asText = (oid: number): postgres.PostgresType => ({ to: oid, from: [oid], serialize: String, parse: (text: string) => text });
  const textual = connect({ int8: asText(20), timestamp: asText(1114) });
  const run = (client: postgres.Sql, statement: sql.Statement, values: unknown[]) =>
    client.unsafe(statement.text, values as postgres.ParameterOrJSON<never>[], { prepare: true });
  const write = (client: postgres.Sql) => async (): Promise<number> => {
    await run(client, sql.writeMessage, singleValues());
    return 1;
  };
  /** `.values()` rows parsed by postgres.js (int8 as a string, timestamp as a Date), the JSON here. */
  const parsed = (rows: readonly unknown[][]): number =>
    rows.map(([id, streamName, type, position, globalPosition, data, metadata, time]) => ({
      id,
      streamName,
      type,
      position: Number(position),
      globalPosition: Number(globalPosition),
      data: data === null ? null : JSON.parse(data as string),
      metadata: metadata === null ? null : JSON.parse(metadata as string),
      time,
    })).length;
  const decodeText = (row: unknown[]): DecodedMessage => decode(row as (string | null)[]);
  /** `.raw()` rows: each column's bytes, decoded like node-postgres' text columns. */
  const raw = (rows: readonly (Buffer | null)[][]): number =>
    rows.map((row) => decode(row.map((column) => (column === null ? null : column.toString('utf8'))))).length;
  return {
    workloads: [
      loop('postgres.single-write', write(single)),
      loop('postgres.batch-100', async () => (await run(single, sql.writeMessages, batchValues()).values()).length),
      loop('postgres.stream-read', async () => parsed(await run(single, sql.getStreamMessages, streamReadValues).values())),
      loop('postgres.category-read', async () => parsed(await run(single, sql.getCategoryMessages, categoryReadValues).values())),
      loop('postgres-raw.stream-read', async () => raw((await run(single, sql.getStreamMessages, streamReadValues).raw()) as unknown as (Buffer | null)[][])),
      loop('postgres-raw.category-read', async () =>
        raw((await run(single, sql.getCategoryMessages, categoryReadValues).raw()) as unknown as (Buffer | null)[][]),
      ),
      loop('postgres-text.stream-read', async () => (await run(textual, sql.getStreamMessages, streamReadValues).values()).map(decodeText).length),
      loop('postgres-text.category-read', async () => (await run(textual, sql.getCategoryMessages, categoryReadValues).values()).map(decodeText).length),
      loop(`postgres.concurrent-${callers}`, write(concurrent), callers),
    ],
    close: async () => {
      await Promise.all([single.end(), concurrent.end(), textual.end()]);
    },
  };
}

/** A build (`<root>/dist/index.js`), as a user gets it; typed by the source of this checkout. */
async function builtPackage(root = new URL('..', import.meta.url)): Promise<typeof Package> {
  const built = new URL('dist/index.js', root);
  if (!existsSync(built)) throw new Error(`${built.pathname} is missing: run \`npm run build\` first (the client is measured as built)`);
  return (await import(built.href)) as typeof Package;
}

/** The client of the build under `root` (this checkout's by default), its workloads keyed `<prefix>.`. */
async function openClient(url: string, prefix = 'client', root?: URL): Promise<Contender> {
  const { MessageDbClient } = await builtPackage(root);
  const client = await MessageDbClient.connect({ connectionString: url, applicationName: startup.application_name });
  const concurrent = await MessageDbClient.connect({ connectionString: url, applicationName: startup.application_name, maxPoolSize: 1 });
  const write = (target: Package.MessageDbClient) => async (): Promise<number> => {
    await target.writeMessage(fixtures.singleMessage());
    return 1;
  };
  return {
    workloads: [
      loop(`${prefix}.single-write`, write(client)),
      loop(`${prefix}.batch-100`, async () => (await client.writeMessages(fixtures.batchMessages(batchSize))).length),
      loop(
        `${prefix}.stream-read`,
        async () => (await client.getStreamMessages(fixtures.readStreamName, { position: 0, batchSize: fixtures.readBatchSize })).length,
      ),
      loop(
        `${prefix}.category-read`,
        async () => (await client.getCategoryMessages(fixtures.readCategory, { position: 1, batchSize: fixtures.readBatchSize })).length,
      ),
      loop(`${prefix}.concurrent-${callers}`, write(concurrent), callers),
    ],
    close: async () => {
      await Promise.all([client.close(), concurrent.close()]);
    },
  };
}

/** The rows of the table: a workload, its pgbench anchor, and the contenders' keys. */
const rows = [
  { label: 'single write (1 connection)', workload: 'single-write', anchor: 'pgbench.w_distinct' },
  { label: `batch of ${batchSize} (one statement)`, workload: 'batch-100', anchor: 'pgbench.w_pipe100' },
  { label: 'stream read (1000 per call)', workload: 'stream-read', anchor: 'pgbench.r_stream_full' },
  { label: 'category read (1000 per call)', workload: 'category-read', anchor: 'pgbench.r_cat_full' },
  { label: `${callers} concurrent single writes, 1 connection`, workload: `concurrent-${callers}`, anchor: 'pgbench.w_distinct' },
];
const names: Record<string, string> = {
  pg: 'node-postgres',
  postgres: 'postgres.js `.values()`',
  'postgres-raw': 'postgres.js `.raw()`',
  'postgres-text': 'postgres.js `.values()`, int8 and timestamp as text',
  client: 'this client (dist/)',
  baseline: `the client built in ${args.baseline ?? ''}`,
};
const contenders = ['pg', 'postgres', 'postgres-raw', 'postgres-text', 'client', ...(args.baseline === undefined ? [] : ['baseline'])];

function table(results: Rounds): string[] {
  const baselined = contenders.includes('baseline');
  const figure = (key: string): string => {
    const values = results.get(key)?.filter(Number.isFinite) ?? [];
    return values.length === 0 ? '' : formatRate(median(values));
  };
  const ratio = (top: string, bottom: string): string => (results.has(top) && results.has(bottom) ? formatRatio(pairedRatio(results, top, bottom)) : '');
  const lines = [
    `| workload | pgbench | ${contenders.map((name) => names[name]).join(' | ')} | postgres.js / node-postgres | client / postgres.js |${baselined ? ' client / baseline |' : ''}`,
    `| --- | ---: | ${contenders.map(() => '---:').join(' | ')} | ---: | ---: |${baselined ? ' ---: |' : ''}`,
  ];
  for (const row of rows) {
    const cells = contenders.map((name) => {
      const key = `${name}.${row.workload}`;
      return results.has(key) ? `${figure(key)} (${ratio(key, row.anchor)})` : '—';
    });
    lines.push(
      `| ${row.label} | ${figure(row.anchor)} \`${row.anchor.replace('pgbench.', '')}\` | ${cells.join(' | ')} | ` +
        `${ratio(`postgres.${row.workload}`, `pg.${row.workload}`)} | ${ratio(`client.${row.workload}`, `postgres.${row.workload}`)} |` +
        (baselined ? ` ${ratio(`client.${row.workload}`, `baseline.${row.workload}`)} |` : ''),
    );
  }
  return lines;
}

const database = await createBenchDatabase(args.url);
const closers: Array<() => Promise<void>> = [];
try {
  log(`database ${database.description} (PostgreSQL ${database.serverVersion})`);
  const opened = await Promise.all([
    openPg(database.url),
    openPostgresJs(database.url),
    openClient(database.url),
    ...(args.baseline === undefined ? [] : [openClient(database.url, 'baseline', pathToFileURL(`${resolve(args.baseline)}/`))]),
  ]);
  closers.push(...opened.map((contender) => () => contender.close()));
  // Seeded through the build's client, like the client's workloads run.
  const { MessageDbClient } = await builtPackage();
  const seedClient = await MessageDbClient.connect({ connectionString: database.url });
  await seedReads(seedClient);
  await seedClient.close();
  await analyze(database.url);

  const version = await pgbenchVersion();
  const pgbench = version === undefined ? undefined : new Pgbench(database.url);
  if (pgbench !== undefined) closers.push(async () => pgbench.close());
  const anchors =
    pgbench === undefined
      ? []
      : [anchorScripts.w_distinct, anchorScripts.w_pipe100, anchorScripts.r_stream_full, anchorScripts.r_cat_full].map((script) => pgbench.workload(script));
  const workloads = [...anchors, ...opened.flatMap((contender) => contender.workloads)];
  // A group per anchor: the anchor and every contender's workload take turns in each round's slices;
  // the concurrent writes share the single write's anchor, so they run in its group.
  const keys = (workload: string): string[] => contenders.map((name) => `${name}.${workload}`);
  const groups = groupWorkloads(workloads, [
    ['pgbench.w_distinct', ...keys('single-write'), ...keys(`concurrent-${callers}`)],
    ...rows.slice(1, 4).map((row) => [row.anchor, ...keys(row.workload)]),
  ]);

  await warmUp(workloads);
  log(`${workloads.length} workloads x ${rounds} rounds x ${seconds} s`);
  const results = await interleave(groups, rounds, seconds * 1000, (key, round, value) =>
    log(`  round ${round + 1} ${key.padEnd(30)} ${Math.round(value).toLocaleString('en-US').padStart(10)} msg/s`),
  );
  const environment = await describeEnvironment(database.serverVersion, database.description, version);
  const where = new URL(args.url);
  process.stdout.write(
    [
      `Measured ${environment.date} by \`npm run bench:drivers\` on PostgreSQL ${database.serverVersion} at ${where.hostname}:${where.port || '5432'}; ` +
        `${environment.machine}; Node ${environment.node}; pg ${packageVersion('pg')}, postgres ${packageVersion('postgres')}; ${version ?? 'no pgbench'}. ` +
        `${rounds} interleaved rounds of ${seconds} s (four slices each); rates are medians of the rounds, in messages per second; ` +
        'a ratio in parentheses is against pgbench, the median of the per-round ratios.',
      '',
      ...table(results),
      '',
    ].join('\n'),
  );
} finally {
  for (const close of closers.reverse()) await close().catch(() => {});
  await database.drop();
}
