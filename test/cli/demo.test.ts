/**
 * `messagedb demo` run as a subprocess, on the embedded database (its default) and on PostgreSQL:
 * it exits 0 with the balance check passed, and reports throughput, lag, the withdrawal commands the
 * entity store decided, the store check and the consumer group.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort } from '../support/test-server.ts';
import { createDatabase, postgresClient } from '../support/databases.ts';
import { assertOk, records, runCli, temporaryDirectory } from './cli-process.ts';

interface DemoReport {
  category: string;
  target: string;
  events: number;
  accounts: number;
  write: { seconds: number; messagesPerSecond: number };
  consume: { seconds: number; messagesPerSecond: number; groupSize: number };
  maxLag: number;
  finalLag: number;
  commands: { commands: number; written: number; refused: number; conflicts: number; seconds: number };
  storeCheck: { accounts: number; fromSnapshots: number; messagesProjected: number };
  members: Array<{ member: number; positionStream: string; position: number | null; handled: number; accounts: number }>;
  check: { passed: boolean; mismatches: string[]; totalCents: number };
  /** The command that opens the web console on the demo's data. */
  console: string;
}

function assertPassed(report: DemoReport | undefined, events: number): asserts report is DemoReport {
  assert.ok(report);
  assert.equal(report.check.passed, true, report.check.mismatches.join('; '));
  assert.equal(report.events, events);
  assert.equal(report.finalLag, 0);
  assert.ok(report.maxLag >= 0 && report.maxLag <= events);
  assert.ok(report.write.messagesPerSecond > 0 && report.consume.messagesPerSecond > 0);
  assert.equal(report.consume.groupSize, 3);
  assert.deepEqual(
    report.members.map((member) => member.member),
    [0, 1, 2],
  );
  // The group handles the writer's events and the withdrawals the entity store wrote.
  assert.equal(report.commands.written + report.commands.refused, report.commands.commands);
  assert.equal(
    report.members.reduce((sum, member) => sum + member.handled, 0),
    events + report.commands.written,
  );
  assert.equal(report.storeCheck.accounts, report.accounts);
  assert.equal(new Set(report.members.map((member) => member.positionStream)).size, 3);
}

describe('messagedb demo', () => {
  test('on the embedded database by default (MESSAGE_DB_URL ignored) it passes its balance check and leaves positions to inspect', async () => {
    const cwd = temporaryDirectory();
    const unreachable = `postgres://nobody@127.0.0.1:${await freePort()}/none`;
    const result = await runCli(['demo', '--events', '600', '--accounts', '20'], { cwd, env: { MESSAGE_DB_URL: unreachable } });
    assertOk(result);
    // It says why it does not use the URL that is set, not that none is set.
    assert.match(result.stderr, /the demo uses the embedded database in \.\/\.messagedb, not MESSAGE_DB_URL \(give --url to run it on a server\)/);
    assert.doesNotMatch(result.stderr, /no --url, MESSAGE_DB_URL or DATABASE_URL/);
    const [report] = records<DemoReport>(result);
    assertPassed(report, 600);
    assert.equal(report.target, './.messagedb');
    assert.equal(report.console, 'messagedb console --data-dir ./.messagedb');
    assert.equal(report.commands.commands, 60, 'a tenth of the events by default');
    assert.ok(report.commands.written > 0, 'some withdrawals were covered');
    assert.ok(report.storeCheck.fromSnapshots > 0, 'the store check started from snapshots');
    const consumers = records(await runCli(['consumers', '--category', report.category], { cwd }));
    assert.deepEqual(
      consumers.map((row) => [row.positionStream, row.position]),
      report.members.map((member) => [member.positionStream, member.position]),
    );
  });

  test('on PostgreSQL with --url it passes its balance check', async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    const result = await runCli(['demo', '--events', '1500', '--url', database.url, '--table']);
    assertOk(result);
    assert.match(
      result.stdout,
      /^EntityStore\.handle decided 150 withdrawals on 5 hot accounts, 8 at a time, in [\d.]+ s: [\d,]+ written, [\d,]+ refused for want of funds, [\d,]+ decided again after a conflict$/m,
    );
    assert.match(result.stdout, /^Balance check PASSED/m);
    const json = await runCli(['demo', '--events', '1500', '--url', database.url]);
    assertOk(json);
    assertPassed(records<DemoReport>(json)[0], 1500);
  });

  test('--table prints throughput, lag, each member and the check result', async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    const result = await runCli(['demo', '--events', '300', '--accounts', '10', '--commands', '0', '--table', '--url', database.url]);
    assertOk(result);
    assert.match(result.stdout, /^Wrote 300 events in [\d.]+ s \([\d,]+ msg\/s\)$/m);
    assert.doesNotMatch(result.stdout, /EntityStore\.handle/, 'no commands with --commands 0');
    assert.match(result.stdout, /^Store check: 10 accounts fetched through a new EntityStore, \d+ from snapshots, [\d,]+ events projected$/m);
    assert.match(result.stdout, /^Consumer group of 3 handled 300 events in [\d.]+ s \([\d,]+ msg\/s\); max lag [\d,]+ events, final lag 0$/m);
    assert.equal(result.stdout.match(/^ {2}member \d: /gm)?.length, 3);
    assert.match(result.stdout, /^Balance check PASSED: all 10 balances match the written events and the store/m);
  });
});
