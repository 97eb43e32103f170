/**
 * `messagedb bench`: this client's throughput and consumer latency on a fresh database, beside
 * pgbench's anchor scripts (the server's own ceiling) when pgbench is on the PATH.
 *
 * On a server it creates `messagedb_bench_<random>` (the URL's role needs CREATEDB), installs
 * Message DB, seeds it, measures, and drops the database at the end: after an error and on Ctrl-C
 * too. With no server it measures an in-memory embedded database (PGlite), which pgbench cannot
 * reach, and leaves nothing on disk. The workloads of a row take turns in short slices every round
 * (src/cli/bench/measure.ts), so a burst of load from elsewhere lands on both sides of a ratio.
 */
import { setImmediate } from 'node:timers/promises';
import { InvalidArgumentError as CommanderArgumentError, Option, type Command } from 'commander';
import { analyze, createBenchDatabase, createDatabasePrivilege } from './bench/bench-database.js';
import { batchWrite, categoryRead, seedReads, singleWrite, streamRead, transactionWrite } from './bench/client-workloads.js';
import { consumerWorkload, runConsumerLatency } from './bench/consumer.js';
import { counterparts } from './bench/counterparts.js';
import { groupWorkloads, interleave, warmUp, type Workload } from './bench/measure.js';
import { anchorScripts, Pgbench, pgbenchVersion } from './bench/pgbench.js';
import type { SeedTarget } from './bench/seed.js';
import { MessageDbClient } from '../store/client.js';
import { CliError, ExitCode, toCliError, usageError } from './cli-error.js';
import { benchRecords, benchTables, summarise, type BenchRun, type Section } from './bench-report.js';
import { addFormatOptions, examples, integerOption, positiveNumberOption } from './options.js';
import { Output, chooseFormat, type FormatOptions } from './output.js';
import { resolveTarget, type Target } from './target.js';
import { errorContext, type CliContext } from './with-target.js';

/** What `--only` picks from. */
const sections: readonly Section[] = ['writes', 'reads', 'consumer'];

interface BenchCommandOptions extends FormatOptions {
  url?: string;
  rounds: number;
  seconds: number;
  only: Section[];
}

function sectionsOption(text: string): Section[] {
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!sections.includes(name as Section)) throw new CommanderArgumentError(`takes a comma list of ${sections.join(', ')} (got ${JSON.stringify(name)})`);
  }
  return [...new Set(names as Section[])];
}

/** The database the workloads run on. */
interface Bench {
  client: MessageDbClient;
  /** The consumers' own client on a server: a stopped consumer's cancel may land on its connection's next statement. */
  consumerClient: MessageDbClient;
  seed: SeedTarget;
  pgbench: Pgbench | undefined;
}

function sectionWorkloads(section: Section, bench: Bench, signal: AbortSignal): Workload[] {
  const { client } = bench;
  if (section === 'writes')
    return [singleWrite(client), batchWrite(client, 10), batchWrite(client, 100), batchWrite(client, 1000), transactionWrite(client, 100)];
  if (section === 'reads') return [streamRead(client), categoryRead(client)];
  return [consumerWorkload(bench.consumerClient, bench.seed, { signal })];
}

/** A workload that stops before its next run once Ctrl-C was pressed (a run in flight is a slice at most). */
const abortable = (workload: Workload, signal: AbortSignal): Workload => ({
  ...workload,
  run: async (durationMs) => {
    // PGlite answers through promises alone: without a turn of the event loop, Ctrl-C would wait for the end.
    await setImmediate();
    signal.throwIfAborted();
    return workload.run(durationMs);
  },
});

/** Warm up, run the rounds, then the consumer latencies. */
async function measure(bench: Bench, options: BenchCommandOptions, output: Output, signal: AbortSignal): Promise<Pick<BenchRun, 'rows' | 'latency'>> {
  const sectionOf = new Map<string, Section>();
  const clientWorkloads: Workload[] = [];
  for (const section of options.only) {
    for (const workload of sectionWorkloads(section, bench, signal)) {
      sectionOf.set(workload.key, section);
      clientWorkloads.push(workload);
    }
  }
  const ran = counterparts.filter((row) => sectionOf.has(row.client));
  const anchorKeys = new Set(ran.map((row) => row.anchor));
  const { pgbench } = bench;
  const anchors =
    pgbench === undefined
      ? []
      : Object.values(anchorScripts)
          .filter((script) => anchorKeys.has(`pgbench.${script.name}`))
          .map((script) => pgbench.workload(script));
  const workloads = [...anchors, ...clientWorkloads].map((workload) => abortable(workload, signal));

  output.note(`measuring ${workloads.length} workloads: ${options.rounds} round${options.rounds === 1 ? '' : 's'} x ${options.seconds} s each`);
  await warmUp(workloads);
  const rounds = await interleave(
    groupWorkloads(
      workloads,
      ran.map((row) => [row.anchor, row.client]),
    ),
    options.rounds,
    options.seconds * 1000,
  );
  const rows = ran.map((row) => summarise(row, sectionOf.get(row.client) as Section, rounds));
  if (!options.only.includes('consumer')) return { rows, latency: [] };
  output.note('measuring write-to-handler latency');
  // One message every 5 ms: about 200 per mode for each second of --seconds.
  const messages = Math.max(20, Math.round(200 * options.seconds));
  const latency = await runConsumerLatency(bench.consumerClient, () => {}, { listenMessages: messages, pollingMessages: messages, signal });
  return { rows, latency };
}

/** On a server: a fresh database, dropped at the end whatever happens. */
async function benchServer(
  target: Extract<Target, { kind: 'postgres' }>,
  options: BenchCommandOptions,
  context: CliContext,
  output: Output,
): Promise<BenchRun> {
  const { role, allowed } = await createDatabasePrivilege(target.url);
  if (!allowed) {
    throw new CliError(
      `role ${role} lacks the CREATEDB privilege: messagedb bench creates a fresh database on ${target.description} ` +
        `and drops it afterwards (grant it with ALTER ROLE ${role} CREATEDB, or give a --url whose role has it)`,
      ExitCode.failed,
    );
  }
  const database = await createBenchDatabase(target.url);
  output.note(`created database ${database.name} (PostgreSQL ${database.serverVersion}); it is dropped at the end`);
  const closers: Array<() => Promise<void>> = [];
  try {
    const connect = async (): Promise<MessageDbClient> => {
      const client = await MessageDbClient.connect({ connectionString: database.url, applicationName: 'messagedb-bench' });
      closers.push(() => client.close());
      return client;
    };
    const client = await connect();
    const consumerClient = options.only.includes('consumer') ? await connect() : client;
    await seedReads(client);
    await analyze(database.url);
    const version = await pgbenchVersion(context.env);
    if (version === undefined) output.note('pgbench was not found on the PATH: measuring this client alone');
    const pgbench = version === undefined ? undefined : new Pgbench(database.url, { env: context.env, signal: context.signal });
    if (pgbench !== undefined) closers.push(async () => pgbench.close());
    const measured = await measure({ client, consumerClient, seed: database.url, pgbench }, options, output, context.signal);
    return {
      engine: 'postgres',
      target: database.description,
      database: database.name,
      postgres: database.serverVersion,
      pgbench: version ?? null,
      ...measured,
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    await database.drop().then(
      () => output.note(`dropped database ${database.name}`),
      (error: unknown) => output.note(`could not drop database ${database.name} (drop it by hand): ${toCliError(error).message}`),
    );
  }
}

/** With no server: an in-memory PGlite, so nothing is written to ./.messagedb. */
async function benchEmbedded(options: BenchCommandOptions, context: CliContext, output: Output): Promise<BenchRun> {
  output.note(
    'no --url, MESSAGE_DB_URL or DATABASE_URL: measuring an in-memory embedded database (PGlite); pgbench needs a server, so there are no pgbench figures',
  );
  const client = await MessageDbClient.embedded();
  try {
    await seedReads(client);
    const measured = await measure({ client, consumerClient: client, seed: client, pgbench: undefined }, options, output, context.signal);
    return { engine: 'pglite', target: 'in-memory PGlite', database: null, postgres: null, pgbench: null, ...measured };
  } finally {
    await client.close();
  }
}

/** Adds `messagedb bench` to the program. */
export function registerBench(program: Command, context: CliContext): void {
  const command = program
    .command('bench')
    .description("measure this client on a fresh database against pgbench's anchor scripts: writes, batches, reads, consumers")
    .option('--url <url>', 'a server to create the bench database on (default: $MESSAGE_DB_URL, then $DATABASE_URL, then an in-memory PGlite)')
    .option('--rounds <n>', 'rounds; every figure is the median of the rounds', integerOption(1), 3)
    .option('--seconds <s>', 'seconds per workload per round', positiveNumberOption, 1)
    .addOption(new Option('--only <sections>', `a comma list of ${sections.join(', ')}`).argParser(sectionsOption).default([...sections], sections.join(',')))
    .addHelpText(
      'after',
      '\nOn a server, the role needs CREATEDB: a database messagedb_bench_<random> is created, measured and dropped.\n' +
        'pgbench runs when it is on the PATH (it gets the password in PGPASSWORD, not on its command line).\n' +
        examples(
          'messagedb bench --url postgres://postgres@localhost/postgres',
          'messagedb bench --only writes --rounds 5 --seconds 2',
          'messagedb bench --json',
        ),
    );
  addFormatOptions(command).action(async (options: BenchCommandOptions) => {
    const output = new Output(chooseFormat(options));
    const target = resolveTarget({ url: options.url }, context.env, context.cwd);
    const where = errorContext({ url: options.url }, target, context.env);
    // The bench reads the URL itself (to name its database) before any client would check it.
    if (target.kind === 'postgres' && !URL.canParse(target.url)) throw usageError(`${where.urlSource ?? '--url'} is not a valid postgres:// URL`);
    let run: BenchRun;
    try {
      run = target.kind === 'postgres' ? await benchServer(target, options, context, output) : await benchEmbedded(options, context, output);
    } catch (error) {
      if (context.signal.aborted) throw new CliError('interrupted', ExitCode.interrupted);
      throw toCliError(error, where);
    }
    await (output.format === 'json' ? output.records(benchRecords(run, options)) : output.lines(benchTables(run, options, output.width)));
  });
}
