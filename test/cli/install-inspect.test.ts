/**
 * `messagedb install`, `version`, `stats` and `consumers` on a real PostgreSQL database (--url),
 * run as a subprocess, and how a server target is chosen (--url, MESSAGE_DB_URL, DATABASE_URL).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { consumerGroupMember, type MessageDbClient } from '../../src/index.ts';
import { createDatabase, postgresClient, randomCategory } from '../support/databases.ts';
import { assertFails, assertOk, records, runCli } from './cli-process.ts';

/** The password in a connection string, if it has one: it must never be printed. */
const passwordOf = (url: string): string => decodeURIComponent(new URL(url).password);

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('messagedb install and version on PostgreSQL', () => {
  let url: string;
  before(async () => {
    url = (await createDatabase()).url;
  });

  test('before Message DB is installed, version still reports the server (exit 0) and read exits 5 with an install hint for the same --url', async () => {
    const version = await runCli(['version', '--url', url]);
    assertOk(version);
    const [versions] = records(version);
    assert.equal(versions?.messageDb, null);
    assert.match(String(versions?.postgres), /^\d+\.\d+/);
    const table = await runCli(['version', '--table', '--url', url]);
    assertOk(table);
    assert.match(table.stdout, /^Message DB +not installed \(install it with `messagedb install --url /m);
    assert.match(table.stdout, /^PostgreSQL +\d+\.\d+/m);
    const read = await runCli(['read', 'account-1', '--url', url]);
    assertFails(read, 5, new RegExp(`install it with \`messagedb install --url ${escapeRegExp(withoutPassword(url))}\``));
  });

  test('the install hint never prints a password: it gives the URL without it and says to add it back', async () => {
    const withPassword = new URL(url);
    if (withPassword.password === '') withPassword.password = 'hunter2';
    const result = await runCli(['read', 'account-1', '--url', withPassword.toString()]);
    const hint = `install it with \`messagedb install --url ${withoutPassword(url)}\` (with your password added to the URL: it is not printed)`;
    assertFails(result, 5, new RegExp(escapeRegExp(hint)));
    assert.ok(!result.stderr.includes(passwordOf(withPassword.toString())));
  });

  test('install installs Message DB 1.3.0, then only verifies it', async () => {
    const first = await runCli(['install', '--url', url]);
    assertOk(first);
    assert.deepEqual(
      records(first).map(({ action, version, engine }) => ({ action, version, engine })),
      [{ action: 'installed', version: '1.3.0', engine: 'postgres' }],
    );
    const second = await runCli(['install', '--url', url]);
    assertOk(second);
    assert.equal(records(second)[0]?.action, 'verified');
  });

  test('version prints the package, Message DB and PostgreSQL versions without the password', async () => {
    const result = await runCli(['version', '--url', url]);
    assertOk(result);
    const [versions] = records(result);
    assert.equal(versions?.messagedb, '0.1.0');
    assert.equal(versions?.messageDb, '1.3.0');
    assert.match(String(versions?.postgres), /^\d+\.\d+/);
    assert.equal(versions?.engine, 'postgres');
    const password = passwordOf(url);
    if (password !== '') {
      assert.ok(!result.stdout.includes(password) && !result.stderr.includes(password));
      assert.match(String(versions?.target), /:\*\*\*@/);
    }
  });

  test('MESSAGE_DB_URL, then DATABASE_URL, pick the server when --url is not given', async () => {
    const fromMessageDbUrl = await runCli(['version'], { env: { MESSAGE_DB_URL: url, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    assertOk(fromMessageDbUrl);
    assert.equal(records(fromMessageDbUrl)[0]?.engine, 'postgres');
    const fromDatabaseUrl = await runCli(['version'], { env: { DATABASE_URL: url } });
    assertOk(fromDatabaseUrl);
    assert.equal(records(fromDatabaseUrl)[0]?.engine, 'postgres');
    assert.doesNotMatch(fromDatabaseUrl.stderr, /embedded/);
  });

  test('--url wins over MESSAGE_DB_URL', async () => {
    const result = await runCli(['version', '--url', url], { env: { MESSAGE_DB_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    assertOk(result);
  });
});

describe('messagedb stats and consumers on PostgreSQL', () => {
  let url: string;
  let client: MessageDbClient;
  before(async () => {
    const database = await createDatabase();
    url = database.url;
    client = await postgresClient({}, database);
  });

  test('stats --by totals counts messages, streams, categories and types', async () => {
    const category = randomCategory();
    await client.writeMessages([
      { streamName: `${category}-1`, type: 'Opened' },
      { streamName: `${category}-1`, type: 'Deposited' },
      { streamName: `${category}-2`, type: 'Opened' },
    ]);
    const result = await runCli(['stats', '--by', 'totals', '--url', url]);
    assertOk(result);
    const [totals] = records(result);
    assert.equal(totals?.messages, 3);
    assert.equal(totals?.streams, 2);
    assert.equal(totals?.categories, 1);
    assert.equal(totals?.types, 2);
    assert.equal(typeof totals?.headGlobalPosition, 'number');
  });

  test('stats counts by category and type (the default) and by stream, from the summary views', async () => {
    const category = randomCategory();
    await client.writeMessages([
      { streamName: `${category}-1`, type: 'Deposited' },
      { streamName: `${category}-1`, type: 'Deposited' },
      { streamName: `${category}-2`, type: 'Withdrawn' },
    ]);
    const byCategoryType = records(await runCli(['stats', '--category', category, '--url', url]));
    assert.deepEqual(
      byCategoryType.map(({ category: name, type, messageCount }) => ({ name, type, messageCount })),
      [
        { name: category, type: 'Deposited', messageCount: 2 },
        { name: category, type: 'Withdrawn', messageCount: 1 },
      ],
    );
    assert.ok(byCategoryType.every((row) => typeof row.percent === 'number' && row.percent > 0 && row.percent <= 100));
    const byStream = records(await runCli(['stats', '--by', 'stream', '--category', category, '--url', url]));
    assert.deepEqual(
      byStream.map(({ streamName, messageCount }) => ({ streamName, messageCount })),
      [
        { streamName: `${category}-1`, messageCount: 2 },
        { streamName: `${category}-2`, messageCount: 1 },
      ],
    );
  });

  test('stats --table prints the totals line and a table', async () => {
    const category = randomCategory();
    await client.writeMessage({ streamName: `${category}-1`, type: 'Deposited' });
    const result = await runCli(['stats', '--category', category, '--table', '--url', url]);
    assertOk(result);
    const lines = result.stdout.split('\n');
    assert.match(lines[0] ?? '', /^\S+ messages? in \S+ streams?, /);
    assert.match(lines[2] ?? '', /^CATEGORY\s+TYPE\s+MESSAGES\s+PERCENT$/);
    assert.match(lines[3] ?? '', new RegExp(`^${category}\\s+Deposited\\s+1\\s+\\d+\\.\\d\\d$`));
  });

  test('stats rejects an unknown --by and --category with --by type (exit 2)', async () => {
    assertFails(await runCli(['stats', '--by', 'nonsense', '--url', url]), 2, /Allowed choices are/);
    assertFails(await runCli(['stats', '--by', 'type', '--category', 'x', '--url', url]), 2, /--category does not apply to --by type/);
  });

  test('consumers lists each position stream with its position, the category head and the lag', async () => {
    const category = randomCategory();
    await client.writeMessages(Array.from({ length: 5 }, () => ({ streamName: `${category}-1`, type: 'Deposited' })));
    const messages = await client.getStreamMessages(`${category}-1`);
    const head = messages.at(-1)?.globalPosition ?? 0;
    const secondPosition = messages[1]?.globalPosition ?? 0;
    await client.writeMessage({ streamName: `${category}:position-worker-1`, type: 'Recorded', data: { position: 1 } });
    await client.writeMessage({ streamName: `${category}:position-worker-1`, type: 'Recorded', data: { position: secondPosition } });
    await client.writeMessage({ streamName: `${category}:command+position-handler`, type: 'Recorded', data: { position: 7 } });
    const result = await runCli(['consumers', '--url', url]);
    assertOk(result);
    const rows = records(result).filter((row) => String(row.positionStream).startsWith(category));
    assert.deepEqual(
      rows.map(({ positionStream, category: of, identifier, position, head: categoryHead, lag }) => ({
        positionStream,
        of,
        identifier,
        position,
        categoryHead,
        lag,
      })),
      [
        { positionStream: `${category}:command+position-handler`, of: `${category}:command`, identifier: 'handler', position: 7, categoryHead: 0, lag: 0 },
        {
          positionStream: `${category}:position-worker-1`,
          of: category,
          identifier: 'worker-1',
          position: secondPosition,
          categoryHead: head,
          lag: head - secondPosition,
        },
      ],
    );
    assert.ok(rows.every((row) => !Number.isNaN(Date.parse(String(row.recordedAt)))));
  });

  test('a group member whose records carry its group has its lag measured to the newest message of its share', async () => {
    const category = randomCategory();
    await client.writeMessages(Array.from({ length: 20 }, (_, index) => ({ streamName: `${category}-${index}`, type: 'Opened' })));
    const messages = await client.getCategoryMessages(category);
    const head = messages.at(-1)?.globalPosition ?? 0;
    // The member that does not own the newest message: its share ends before the category's head.
    const member = 1 - (consumerGroupMember(messages.at(-1)?.streamName ?? '', 2) ?? 0);
    const shareHead = Math.max(...messages.filter((message) => consumerGroupMember(message.streamName, 2) === member).map((message) => message.globalPosition));
    assert.ok(shareHead < head);
    await client.writeMessage({
      streamName: `${category}:position-member-${member}`,
      type: 'Recorded',
      data: { position: shareHead },
      metadata: { localProperties: { consumerGroupMember: member, consumerGroupSize: 2 } },
    });
    const [row] = records(await runCli(['consumers', '--category', category, '--url', url]));
    assert.deepEqual(row?.consumerGroup, { member, size: 2 });
    assert.equal(row?.head, head);
    assert.equal(row?.lag, 0);
  });

  test('consumers --category keeps one category', async () => {
    const category = randomCategory();
    await client.writeMessage({ streamName: `${category}:position-x`, type: 'Recorded', data: { position: 3 } });
    const rows = records(await runCli(['consumers', '--category', category, '--url', url]));
    assert.deepEqual(
      rows.map((row) => row.positionStream),
      [`${category}:position-x`],
    );
  });
});
