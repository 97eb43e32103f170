/**
 * `messagedb demo` (`npm start`): a bank on the embedded database, with zero set-up. A consumer
 * group of three members starts on a new account category; a writer writes a few thousand
 * `Deposited`/`Withdrawn` events in atomic batches; each member computes the balances of its share of
 * the accounts; then the balances are checked against the writer's ledger and against the events
 * read back from the store. Prints throughput, lag and the result; exits 0 only when the check passes.
 *
 * Each run uses a new category, so runs are independent and the data stays for `messagedb stats`,
 * `read` and `consumers`. MESSAGE_DB_URL and DATABASE_URL are ignored: the demo writes to a server
 * only when asked with --url.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import type { Command } from 'commander';
import type { MessageDbClient } from '../client.js';
import { Consumer } from '../consumer/consumer.js';
import type { Message } from '../message.js';
import { sleep } from '../runner.js';
import { CliError, ExitCode } from './cli-error.js';
import { BalanceProjection, bankEvents, checkBalances, formatCents, type AmountData, type BalanceCheck } from './demo-bank.js';
import { addFormatOptions, addTargetOptions, examples, integerOption } from './options.js';
import type { Output } from './output.js';
import { ProgressBar } from './progress.js';
import { formatCount } from './table.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

interface DemoOptions {
  events: number;
  accounts: number;
  timeoutMs: number;
}

const groupSize = 3;
const writeBatchSize = 250;
const sampleEveryMs = 50;

interface MemberReport {
  member: number;
  positionStream: string;
  /** The global position the member recorded when it stopped. */
  position: number | null;
  handled: number;
  accounts: number;
}

/** Messages per second, rounded. */
const rate = (count: number, ms: number): number => (ms > 0 ? Math.round((count * 1000) / ms) : 0);

/** The balances the store's events add up to, read back a batch at a time. */
async function storeBalances(client: MessageDbClient, category: string, signal: AbortSignal): Promise<Map<string, number>> {
  const projection = new BalanceProjection();
  for await (const message of client.readCategory<AmountData>(category, { signal })) projection.apply(message);
  return projection.balances;
}

async function runDemo(client: MessageDbClient, where: string, options: DemoOptions, output: Output, signal: AbortSignal): Promise<BalanceCheck> {
  const category = `account${randomBytes(3).toString('hex')}`;
  const say = (line: string): Promise<void> => (output.format === 'table' ? output.lines([line]) : Promise.resolve());
  await say(`Bank demo: ${formatCount(options.events)} events to ${options.accounts} accounts in category ${category}, on ${where}`);

  const { events, ledger } = bankEvents(category, options.accounts, options.events);
  const projections = Array.from({ length: groupSize }, () => new BalanceProjection());
  const handledBy = projections.map(() => 0);
  const consumers = projections.map((projection, member) => {
    const handle = (message: Message<AmountData>): void => {
      projection.apply(message);
      handledBy[member] = (handledBy[member] ?? 0) + 1;
    };
    return new Consumer(client, { category, identifier: `balances-${member}`, consumerGroup: { member, size: groupSize }, pollIntervalMs: 20 })
      .on<AmountData>('Deposited', handle)
      .on<AmountData>('Withdrawn', handle);
  });
  const startedAt = performance.now();
  const running = consumers.map((consumer) => consumer.start({ signal }));
  // A consumer that fails ends the demo at once rather than at the time-out.
  const failed = Promise.race(running.map((run) => run.then(() => new Promise<never>(() => {}))));
  failed.catch(() => {});

  const handled = (): number => handledBy.reduce((sum, count) => sum + count, 0);
  let written = 0;
  let maxLag = 0;
  const sampleLag = (): void => {
    maxLag = Math.max(maxLag, written - handled());
  };

  const writing = new ProgressBar('Writing  ');
  for (let start = 0; start < events.length; start += writeBatchSize) {
    const batch = events.slice(start, start + writeBatchSize);
    await Promise.race([client.writeMessages(batch, { signal }), failed]);
    written += batch.length;
    sampleLag();
    writing.update(written, written / events.length);
    // PGlite answers through promises alone: without a turn of the event loop, the consumers' poll
    // timers and Ctrl-C would wait until the writer is done.
    await setImmediate();
  }
  writing.finish();
  const writeMs = performance.now() - startedAt;
  await say(`Wrote ${formatCount(written)} events in ${(writeMs / 1000).toFixed(2)} s (${formatCount(rate(written, writeMs))} msg/s)`);

  const balancing = new ProgressBar('Balancing');
  const deadline = performance.now() + options.timeoutMs;
  while (handled() < written) {
    if (performance.now() > deadline) {
      throw new CliError(`the consumer group handled ${handled()} of ${written} events within ${options.timeoutMs} ms`, ExitCode.failed);
    }
    await Promise.race([sleep(sampleEveryMs, signal), failed]);
    sampleLag();
    balancing.update(handled(), handled() / written);
  }
  balancing.finish();
  const consumeMs = performance.now() - startedAt;
  await Promise.all(consumers.map((consumer) => consumer.stop()));
  await Promise.all(running);

  const members: MemberReport[] = await Promise.all(
    consumers.map(async (consumer, member) => ({
      member,
      positionStream: consumer.positionStreamName,
      position: (await consumer.stats({ signal })).recordedPosition,
      handled: handledBy[member] ?? 0,
      accounts: projections[member]?.balances.size ?? 0,
    })),
  );
  const againstLedger = checkBalances(ledger, projections.map((projection) => projection.balances));
  const againstStore = checkBalances(await storeBalances(client, category, signal), projections.map((projection) => projection.balances));
  const check: BalanceCheck = {
    ...againstLedger,
    passed: againstLedger.passed && againstStore.passed,
    mismatches: [...againstLedger.mismatches, ...againstStore.mismatches.map((text) => `store: ${text}`)],
  };
  const finalLag = written - handled();

  if (output.format === 'json') {
    await output.records([
      {
        category,
        target: where,
        events: written,
        accounts: check.accounts,
        write: { seconds: Number((writeMs / 1000).toFixed(3)), messagesPerSecond: rate(written, writeMs) },
        consume: { seconds: Number((consumeMs / 1000).toFixed(3)), messagesPerSecond: rate(handled(), consumeMs), groupSize },
        maxLag,
        finalLag,
        members,
        check: { passed: check.passed, mismatches: check.mismatches.slice(0, 20), totalCents: check.totalCents },
      },
    ]);
    return check;
  }
  await say(
    `Consumer group of ${groupSize} handled ${formatCount(handled())} events in ${(consumeMs / 1000).toFixed(2)} s ` +
      `(${formatCount(rate(handled(), consumeMs))} msg/s); max lag ${formatCount(maxLag)} events, final lag ${finalLag}`,
  );
  for (const report of members) {
    await say(
      `  member ${report.member}: ${formatCount(report.handled)} events, ${report.accounts} accounts, ` +
        `position ${report.position ?? '-'} recorded in ${report.positionStream}`,
    );
  }
  for (const mismatch of check.mismatches.slice(0, 10)) await say(`  mismatch: ${mismatch}`);
  await say(
    check.passed
      ? `Balance check PASSED: all ${check.accounts} balances match the written events and the store (total ${formatCents(check.totalCents)})`
      : `Balance check FAILED: ${check.mismatches.length} mismatches`,
  );
  await say(`Look around: messagedb stats, messagedb consumers, messagedb read ${category} --limit 10`);
  return check;
}

export function registerDemo(program: Command, context: CliContext): void {
  const command = program
    .command('demo')
    .description('run a bank-account demo on the embedded database: events, a 3-member consumer group, a balance check')
    .option('--events <n>', 'events to write', integerOption(1), 3000)
    .option('--accounts <n>', 'account streams to spread them over', integerOption(1), 100)
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
    const check = await withClient(demoContext, options, ({ client, target }, output) =>
      runDemo(client, target.description, options, output, context.signal),
    );
    if (!check.passed) throw new CliError(`the balance check failed (${check.mismatches.length} mismatches)`, ExitCode.failed);
  });
}
