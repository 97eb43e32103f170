/**
 * `npm run bench`: one freshly installed Message DB database; the pgbench anchors, this client and
 * its peers measured in interleaved rounds; scaling curves; consumer rows; a markdown report with
 * medians and ratios written to BENCHMARKS.md (charts to bench/charts/).
 *
 * Usage: npm run bench -- [--url postgres://admin@host/db] [--rounds N] [--seconds S] [--only core,peers,scaling,consumer,memory] [--out FILE|-]
 */
import { MessageDbClient } from '../src/index.ts';
import * as clientWorkloads from './client-workloads.ts';
import { currentLoad, describeEnvironment } from './environment.ts';
import { interleave, type Workload } from './measure.ts';
import { parseOptions } from './options.ts';
import { groupByRow } from './rows.ts';
import { anchorScripts, Pgbench, pgbenchVersion } from './pgbench.ts';
import { openPeers } from './peers/index.ts';
import { writeReport, type BenchResults } from './report.ts';
import { runConsumerLatency } from './consumer.ts';
import { runMemory } from './memory.ts';
import { runScaling } from './scaling.ts';
import { analyze, createBenchDatabase } from './server.ts';

const options = parseOptions(process.argv.slice(2));
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const started = Date.now();

const database = await createBenchDatabase(options.url);
log(`bench database: ${database.description} (PostgreSQL ${database.serverVersion})`);
const closers: Array<() => Promise<unknown>> = [];

try {
  const client = await MessageDbClient.connect({ connectionString: database.url, applicationName: 'messagedb-bench' });
  closers.push(() => client.close());
  await clientWorkloads.seedReads(client);
  await analyze(database.url);

  const results: BenchResults = {
    environment: await describeEnvironment(database.serverVersion, await pgbenchVersion()),
    options,
    rounds: new Map(),
    notes: [],
  };

  const workloads: Workload[] = [];
  if (options.only.includes('core')) {
    if (results.environment.pgbench !== undefined) {
      const pgbench = new Pgbench(database.url);
      closers.push(async () => pgbench.close());
      for (const script of Object.values(anchorScripts)) {
        workloads.push({ key: `pgbench.${script.name}`, run: (durationMs) => pgbench.rate(script, durationMs / 1000) });
      }
    } else {
      results.notes.push('pgbench is not on the PATH: the anchor columns are empty and no client/pgbench ratio was measured.');
    }
  }
  if (options.only.includes('core') || options.only.includes('consumer')) {
    // This client runs in a host process like each peer, not in the process that orchestrates.
    const own = await openPeers(database.url, log, ['client']);
    closers.push(() => own.close());
    const isConsumer = (key: string): boolean => key.startsWith('client.consumer');
    workloads.push(
      ...own.workloads.filter((workload) => (isConsumer(workload.key) ? options.only.includes('consumer') : options.only.includes('core'))),
    );
    results.notes.push(...own.notes);
  }
  if (options.only.includes('peers')) {
    const opened = await openPeers(database.url, log);
    closers.push(() => opened.close());
    workloads.push(...opened.workloads);
    results.notes.push(...opened.notes);
  }
  await analyze(database.url);

  // Warm-up: prepared statements, JIT and pools, so round one is not the odd one out; for pgbench,
  // a first rate that sizes its shorter runs.
  for (const workload of workloads) {
    if (workload.whole !== true) await workload.run(workload.key.startsWith('pgbench.') ? 1000 : 300);
  }
  log(`${workloads.length} workloads x ${options.rounds} rounds x ${options.seconds} s`);
  results.rounds = await interleave(groupByRow(workloads), options.rounds, options.seconds * 1000, (key, round, value) =>
    log(`  round ${round + 1} ${key.padEnd(28)} ${Math.round(value).toLocaleString('en-US').padStart(10)} msg/s`),
  );

  if (options.only.includes('scaling')) {
    log('scaling: pool size x categories');
    results.scaling = await runScaling(database.url, options, log);
  }
  if (options.only.includes('consumer')) {
    log('consumer latency');
    results.consumer = await runConsumerLatency(database.url, log);
  }
  if (options.only.includes('memory')) {
    log('memory');
    const memory = await runMemory(database.url, options.memoryMessages, log);
    results.memory = memory.rows;
    results.notes.push(...memory.notes);
  }

  results.elapsedSeconds = Math.round((Date.now() - started) / 1000);
  results.environment.loadAtEnd = currentLoad();
  await writeReport(results, log);
} finally {
  for (const close of closers.reverse()) await close().catch(() => {});
  await database.drop();
}
