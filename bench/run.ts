/**
 * `npm run bench`: one freshly installed Message DB database; the pgbench anchors, this client and
 * its peers measured in interleaved rounds; scaling curves; consumer rows; a markdown report with
 * medians and ratios written to BENCHMARKS.md (charts to docs/charts/, which the package ships with BENCHMARKS.md).
 *
 * Usage: npm run bench -- [--url postgres://admin@host/db] [--rounds N] [--seconds S] [--only core,peers,scaling,consumer,memory,toolkit,test-kit,replicas,console,elastic,dead-letters,doctor,tuning] [--out FILE|-]
 */
import { seedReads } from '../src/cli/bench/client-workloads.ts';
import { MessageDbClient } from '../src/index.ts';
import { currentLoad, describeEnvironment } from './environment.ts';
import { interleave, warmUp, type Workload } from '../src/cli/bench/measure.ts';
import { parseOptions } from './options.ts';
import { groupByRow } from './rows.ts';
import { anchorScripts, Pgbench, pgbenchVersion } from '../src/cli/bench/pgbench.ts';
import { openPeers } from './peers/index.ts';
import { writeReport, type BenchResults } from './report.ts';
import { runConsumerLatency } from '../src/cli/bench/consumer.ts';
import { runMemory } from './memory.ts';
import { runScaling } from './scaling.ts';
import { analyze } from '../src/cli/bench/bench-database.ts';
import { createBenchDatabase } from './server.ts';
import { consumerAnchor } from './anchors.ts';
import { runToolkitBench } from './toolkit.ts';
import { runDeadLetterBench } from './dead-letters.ts';

const options = parseOptions(process.argv.slice(2));
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const started = Date.now();

const database = await createBenchDatabase(options.url);
log(`bench database: ${database.description} on ${database.server}`);
const closers: Array<() => Promise<unknown>> = [];

try {
  const client = await MessageDbClient.connect({ connectionString: database.url, applicationName: 'messagedb-bench' });
  closers.push(() => client.close());
  await seedReads(client);
  await analyze(database.url);

  const results: BenchResults = {
    environment: await describeEnvironment(database.serverVersion, database.server, await pgbenchVersion()),
    options,
    rounds: new Map(),
    notes: [],
  };

  const workloads: Workload[] = [];
  if (options.only.includes('core')) {
    if (results.environment.pgbench !== undefined) {
      const pgbench = new Pgbench(database.url);
      closers.push(async () => pgbench.close());
      workloads.push(
        ...[...Object.values(anchorScripts), consumerAnchor].map((script) => pgbench.workload(script)),
        // Context for the concurrent callers' row: the same script on as many connections as callers.
        pgbench.workload(anchorScripts.w_distinct, 8),
      );
    } else {
      results.notes.push('pgbench is not on the PATH: the anchor columns are empty and no client/pgbench ratio was measured.');
    }
  }
  if (options.only.includes('core') || options.only.includes('consumer')) {
    // This client runs in a host process like each peer, not in the process that orchestrates.
    // Node's floor (bench/peers/node-floor.ts) is measured beside the client's single writes.
    const own = await openPeers(database.url, log, options.only.includes('core') ? ['client', 'floor'] : ['client']);
    closers.push(() => own.close());
    const isConsumer = (key: string): boolean => key.startsWith('client.consumer');
    workloads.push(...own.workloads.filter((workload) => (isConsumer(workload.key) ? options.only.includes('consumer') : options.only.includes('core'))));
    results.notes.push(...own.notes);
  }
  if (options.only.includes('peers')) {
    const opened = await openPeers(database.url, log);
    closers.push(() => opened.close());
    workloads.push(...opened.workloads);
    results.notes.push(...opened.notes);
  }
  await analyze(database.url);

  await warmUp(workloads);
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
    await analyze(database.url);
    results.consumer = await runConsumerLatency(client, log);
  }
  if (options.only.includes('memory')) {
    log('memory');
    const memory = await runMemory(database.url, options.memoryMessages, log);
    results.memory = memory.rows;
    results.notes.push(...memory.notes);
  }

  if (options.only.includes('toolkit')) {
    results.toolkit = await runToolkitBench(database.url, options.rounds, log);
  }

  if (options.only.includes('test-kit')) {
    // PGlite in a process of its own: no server, and none of the other sections' state.
    log('test kit: createTestClient() against embedded() with the install');
    results.testKit = await runChildMarkdown('./test-kit.ts', ['--rounds', String(Math.max(options.rounds * 3, 9))], log);
  }

  if (options.only.includes('dead-letters')) {
    results.deadLetters = await runDeadLetterBench(database.url, options.rounds, log);
  }

  if (options.only.includes('replicas')) {
    // Its own servers (a primary and two hot standbys), so it runs as a process of its own after the rest.
    log('replicas: reads with 0, 1 and 2 hot standbys');
    results.replicas = await runReplicasBench(options.rounds, Math.max(options.seconds, 2), log);
  }

  if (options.only.includes('console')) {
    // A million messages of its own, in a database it creates beside the bench's on the same server.
    log('console: the views over a million messages');
    results.console = await runChildMarkdown('./console.ts', ['--url', database.url, '--rounds', String(Math.max(options.rounds * 3, 5))], log);
  }

  if (options.only.includes('elastic')) {
    // Member processes of their own, in a database it creates beside the bench's on the same server.
    log('elastic: rebalance times, and a 4-member elastic group against a fixed group of 4');
    results.elastic = await runChildMarkdown('./elastic.ts', ['--url', database.url, '--rounds', String(options.rounds)], log);
  }

  if (options.only.includes('doctor')) {
    // A million messages of its own, in a database it creates beside the bench's on the same server.
    log('doctor: diagnose() over a million messages');
    results.doctor = await runChildMarkdown('./doctor.ts', ['--url', database.url, '--rounds', String(Math.max(options.rounds, 5))], log);
  }

  if (options.only.includes('tuning')) {
    log('tuning: read batch sizes, position update interval, cost per KiB');
    results.tuning = await runChildMarkdown(
      './tuning.ts',
      ['--url', database.url, '--rounds', String(options.rounds), '--seconds', String(options.seconds)],
      log,
    );
  }

  results.elapsedSeconds = Math.round((Date.now() - started) / 1000);
  results.environment.loadAtEnd = currentLoad();
  await writeReport(results, log);
} finally {
  for (const close of closers.reverse()) await close().catch(() => {});
  await database.drop();
}

/** Run bench/replicas.ts and return its markdown (its progress goes to our log). */
async function runReplicasBench(rounds: number, seconds: number, log: (line: string) => void): Promise<string> {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./replicas.ts', import.meta.url).pathname, '--rounds', String(rounds), '--seconds', String(seconds), '--out', '-'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let markdown = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (markdown += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line !== '') log(`  ${line}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`bench/replicas.ts exited with ${code}`);
  return markdown;
}

/** Run a bench script that prints its markdown on stdout (its progress goes to our log). */
async function runChildMarkdown(script: string, args: readonly string[], log: (line: string) => void): Promise<string> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let markdown = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (markdown += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line !== '') log(`  ${line}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return markdown;
}
