/**
 * `messagedb demo` (`npm start`): a bank on the embedded database, with zero set-up. A consumer
 * group of three members starts on a new account category; a writer writes a few thousand
 * `Deposited`/`Withdrawn` events in atomic batches; withdrawal commands are then decided on current
 * balances by an entity store (`EntityStore.handle`, several at once on a few hot accounts); each
 * member computes the balances of its share of the accounts; then the balances are checked against
 * the writer's ledger and against the store, fetched through a new entity store that starts from
 * snapshots. Prints throughput, lag and the result; exits 0 only when the check passes.
 *
 * Each run uses a new category, so runs are independent and the data stays for `messagedb stats`,
 * `read` and `consumers`. MESSAGE_DB_URL and DATABASE_URL are ignored: the demo writes to a server
 * only when asked with --url.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay, setImmediate } from 'node:timers/promises';
import type { Command } from 'commander';
import { MessageDbClient } from '../store/client.js';
import { AbortError } from '../vocabulary/errors.js';
import type { NewMessage } from '../vocabulary/message.js';
import { CliError, ExitCode } from './cli-error.js';
import { accountStore, runWithdrawals, storeBalances, type CommandReport, type StoreCheckReport } from './demo-accounts.js';
import { bankEvents, checkBalances, formatCents, type AmountData, type BalanceCheck, type Balances } from './demo-bank.js';
import { BalanceGroup, type MemberReport } from './demo-group.js';
import { addFormatOptions, addTargetOptions, examples, integerOption } from './options.js';
import { Output, chooseFormat } from './output.js';
import { ProgressBar } from './progress.js';
import { formatCount } from './table.js';
import { DEFAULT_DATA_DIR, resolveTarget, type OpenClient } from './target.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

interface DemoOptions {
  events: number;
  accounts: number;
  commands?: number;
  timeoutMs: number;
}

const groupSize = 3;
/** Withdrawal commands go to this many accounts, several at once, so that some collide. */
const hotAccounts = 5;
const commandConcurrency = 8;
const writeBatchSize = 250;
const sampleEveryMs = 50;

/** Messages per second, rounded. */
const rate = (count: number, ms: number): number => (ms > 0 ? Math.round((count * 1000) / ms) : 0);

/** What a run measured. */
interface DemoRun {
  written: number;
  writeMs: number;
  consumeMs: number;
  /** The most events written but not yet handled, sampled as each batch committed. */
  maxLag: number;
  commands: CommandReport;
}

/**
 * Write the events in atomic batches while the group consumes them, then the withdrawal commands
 * (each written one is taken off `ledger`), then wait until the group has handled everything.
 */
async function writeAndConsume(
  client: MessageDbClient,
  category: string,
  events: readonly NewMessage<AmountData>[],
  ledger: Balances,
  commands: number,
  group: BalanceGroup,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<DemoRun> {
  const startedAt = performance.now();
  const run: DemoRun = { written: 0, writeMs: 0, consumeMs: 0, maxLag: 0, commands: { commands: 0, written: 0, refused: 0, conflicts: 0, seconds: 0 } };
  const writing = new ProgressBar('Writing  ');
  for (let start = 0; start < events.length; start += writeBatchSize) {
    const batch = events.slice(start, start + writeBatchSize);
    await Promise.race([client.writeMessages(batch, { signal }), group.failed]);
    run.written += batch.length;
    run.maxLag = Math.max(run.maxLag, run.written - group.handled);
    writing.update(run.written, run.written / events.length);
    // PGlite answers through promises alone: without a turn of the event loop, the consumers' poll
    // timers and Ctrl-C would wait until the writer is done.
    await setImmediate();
  }
  writing.finish();
  run.writeMs = performance.now() - startedAt;

  if (commands > 0) {
    const deciding = new ProgressBar('Commands ');
    const withdrawals = runWithdrawals(accountStore(client, category), ledger, {
      count: commands,
      hotAccounts,
      concurrency: commandConcurrency,
      onProgress: (done) => deciding.update(done, done / commands),
    });
    run.commands = await Promise.race([withdrawals, group.failed]);
    deciding.finish();
    run.written += run.commands.written;
  }

  const balancing = new ProgressBar('Balancing');
  const deadline = startedAt + timeoutMs;
  while (group.handled < run.written) {
    if (performance.now() > deadline) {
      throw new CliError(`the consumer group handled ${group.handled} of ${run.written} events within ${timeoutMs} ms`, ExitCode.failed);
    }
    const sampled = delay(sampleEveryMs, undefined, { signal }).catch((cause: unknown) => {
      throw new AbortError({ cause });
    });
    await Promise.race([sampled, group.failed]);
    balancing.update(group.handled, group.handled / run.written);
  }
  balancing.finish();
  run.consumeMs = performance.now() - startedAt;
  return run;
}

/**
 * The client the consumer group runs on. On a server it gets a pool of its own: stopping a consumer
 * aborts its read in flight, and the postgres engine's out-of-band cancel (pg_cancel_backend) can land
 * after that read ended, on whatever statement the pooled connection runs next; here that would be
 * the balance check's. PGlite cancels nothing.
 */
async function groupClient(opened: OpenClient): Promise<MessageDbClient> {
  if (opened.target.kind !== 'postgres') return opened.client;
  return MessageDbClient.connect({ connectionString: opened.target.url, applicationName: 'messagedb-cli-demo' });
}

async function runDemo(opened: OpenClient, options: DemoOptions, output: Output, signal: AbortSignal): Promise<BalanceCheck> {
  const { client, target } = opened;
  const where = target.description;
  const category = `account${randomBytes(3).toString('hex')}`;
  const say = (lines: string[]): Promise<void> => (output.format === 'table' ? output.lines(lines) : Promise.resolve());
  await say([`Bank demo: ${formatCount(options.events)} events to ${options.accounts} accounts in category ${category}, on ${where}`]);

  const { events, ledger } = bankEvents(category, options.accounts, options.events);
  const commands = options.commands ?? Math.round(options.events / 10);
  const consumersClient = await groupClient(opened);
  const group = new BalanceGroup(consumersClient, category, groupSize, signal);
  let run: DemoRun;
  let members: MemberReport[];
  try {
    try {
      run = await writeAndConsume(client, category, events, ledger, commands, group, options.timeoutMs, signal);
    } finally {
      // On every path (done, Ctrl-C, a failure) the members stop before the client is closed under them.
      await group.stop();
    }
    members = await group.reports();
  } finally {
    if (consumersClient !== client) await consumersClient.close();
  }
  const againstLedger = checkBalances(ledger, group.balances);
  // Every account id the writer could have used: a stream it did not write would show up as a mismatch.
  const accountStreams = Array.from({ length: options.accounts }, (_, index) => `${category}-${index + 1}`);
  const store = await storeBalances(client, category, accountStreams);
  const againstStore = checkBalances(store.balances, group.balances);
  const check: BalanceCheck = {
    ...againstLedger,
    passed: againstLedger.passed && againstStore.passed,
    mismatches: [...againstLedger.mismatches, ...againstStore.mismatches.map((text) => `store: ${text}`)],
  };
  const handled = group.handled;
  const finalLag = run.written - handled;

  if (output.format === 'json') {
    await output.records([
      {
        category,
        target: where,
        events: run.written - run.commands.written,
        accounts: check.accounts,
        commands: { ...run.commands, seconds: Number(run.commands.seconds.toFixed(3)) },
        storeCheck: store.report,
        write: { seconds: Number((run.writeMs / 1000).toFixed(3)), messagesPerSecond: rate(run.written, run.writeMs) },
        consume: { seconds: Number((run.consumeMs / 1000).toFixed(3)), messagesPerSecond: rate(handled, run.consumeMs), groupSize },
        maxLag: run.maxLag,
        finalLag,
        members,
        check: { passed: check.passed, mismatches: check.mismatches.slice(0, 20), totalCents: check.totalCents },
        console: consoleCommand(target),
      },
    ]);
    return check;
  }
  const eventsWritten = run.written - run.commands.written;
  await say([
    `Wrote ${formatCount(eventsWritten)} events in ${(run.writeMs / 1000).toFixed(2)} s (${formatCount(rate(eventsWritten, run.writeMs))} msg/s)`,
    ...commandLines(run.commands),
    `Consumer group of ${groupSize} handled ${formatCount(handled)} events in ${(run.consumeMs / 1000).toFixed(2)} s ` +
      `(${formatCount(rate(handled, run.consumeMs))} msg/s); max lag ${formatCount(run.maxLag)} events, final lag ${finalLag}`,
    ...members.map(
      (report) =>
        `  member ${report.member}: ${formatCount(report.handled)} events, ${report.accounts} accounts, ` +
        `position ${report.position ?? '-'} recorded in ${report.positionStream}`,
    ),
    ...check.mismatches.slice(0, 10).map((mismatch) => `  mismatch: ${mismatch}`),
    storeLine(store.report),
    check.passed
      ? `Balance check PASSED: all ${check.accounts} balances match the written events and the store (total ${formatCents(check.totalCents)})`
      : `Balance check FAILED: ${check.mismatches.length} mismatches`,
    `Look around: messagedb stats, messagedb consumers, messagedb read ${category} --limit 10`,
    `Open the web console on this data: ${consoleCommand(target)}`,
  ]);
  return check;
}

/** A word for a POSIX shell, quoted when it needs it. */
const shellWord = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

/** The command that opens `messagedb console` on the demo's database (a server's URL without its password). */
function consoleCommand(target: OpenClient['target']): string {
  return `messagedb console ${target.kind === 'pglite' ? '--data-dir' : '--url'} ${shellWord(target.description)}`;
}

/** What the withdrawal commands did, for the table output. */
function commandLines(report: CommandReport): string[] {
  if (report.commands === 0) return [];
  return [
    `EntityStore.handle decided ${formatCount(report.commands)} withdrawals on ${hotAccounts} hot accounts, ${commandConcurrency} at a time, in ` +
      `${report.seconds.toFixed(2)} s: ${formatCount(report.written)} written, ${formatCount(report.refused)} refused for want of funds, ` +
      `${formatCount(report.conflicts)} decided again after a conflict`,
  ];
}

/** How the store check read the balances, for the table output. */
function storeLine(report: StoreCheckReport): string {
  return `Store check: ${report.accounts} accounts fetched through a new EntityStore, ${report.fromSnapshots} from snapshots, ${formatCount(report.messagesProjected)} events projected`;
}

/**
 * With no --url or --data-dir but a URL in the environment, the demo names ./.messagedb itself and says
 * why it does not use that URL (the usual note would claim none is set).
 */
function ignoredUrls(context: CliContext, options: CommonOptions): { dataDir?: string } {
  const ignored = ['MESSAGE_DB_URL', 'DATABASE_URL'].filter((name) => (context.env[name] ?? '') !== '');
  if (options.url !== undefined || options.dataDir !== undefined || ignored.length === 0) return {};
  const { description } = resolveTarget({ dataDir: DEFAULT_DATA_DIR }, {}, context.cwd);
  new Output(chooseFormat(options)).note(
    `the demo uses the embedded database in ${description}, not ${ignored.join(' or ')} (give --url to run it on a server)`,
  );
  return { dataDir: DEFAULT_DATA_DIR };
}

/** Adds `messagedb demo` to the program. */
export function registerDemo(program: Command, context: CliContext): void {
  const command = program
    .command('demo')
    .description('run a bank-account demo on the embedded database: events, a 3-member consumer group, a balance check')
    .option('--events <n>', 'events to write', integerOption(1), 3000)
    .option('--accounts <n>', 'account streams to spread them over', integerOption(1), 100)
    .option('--commands <n>', 'withdrawal commands decided by the entity store (default: a tenth of --events)', integerOption(0))
    .option('--timeout-ms <ms>', 'fail if the consumer group has not handled every event this long after the start', integerOption(1), 60_000)
    .addHelpText(
      'after',
      `\nThe demo uses the embedded database (./.messagedb, or --data-dir) unless --url is given;\n` +
        `MESSAGE_DB_URL and DATABASE_URL are ignored. Each run uses a new account category.\n` +
        examples('npm start', 'messagedb demo --events 10000 --accounts 500', 'messagedb demo --url postgres://postgres@localhost/message_store --json'),
    );
  addFormatOptions(addTargetOptions(command)).action(async (options: DemoOptions & CommonOptions) => {
    // Only an explicit --url sends the demo's writes to a server.
    const demoContext: CliContext = { ...context, env: {} };
    const demoOptions = { ...options, ...ignoredUrls(context, options) };
    const check = await withClient(demoContext, demoOptions, (opened, output) => runDemo(opened, options, output, context.signal));
    if (!check.passed) throw new CliError(`the balance check failed (${check.mismatches.length} mismatches)`, ExitCode.failed);
  });
}
