/**
 * The commands on the embedded database (PGlite), the default when no server is named: each runs
 * in a temporary working directory, so `./.messagedb` is created there on first use. Every
 * invocation opens PGlite anew (a few seconds), so each test runs as few as it needs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { MessageDbClient, isDataDirLockedError } from '../../src/index.ts';
import { LineReader, assertFails, assertOk, exitCode, records, runCli, spawnCli, temporaryDirectory } from './cli-process.ts';

interface MessageRecord {
  streamName: string;
  type: string;
  position: number;
  globalPosition: number;
  data: unknown;
}

describe('messagedb on the embedded database', () => {
  let cwd: string;
  const cli = (...args: string[]) => runCli(args, { cwd });

  before(() => {
    cwd = temporaryDirectory();
  });

  test('the first command creates ./.messagedb, installs Message DB, and says so on stderr', async () => {
    const result = await cli('version');
    assertOk(result);
    assert.match(result.stderr, /^messagedb: using the embedded database in \.\/\.messagedb \(no --url, MESSAGE_DB_URL or DATABASE_URL\)$/m);
    assert.match(result.stderr, /^messagedb: created the embedded database in \.\/\.messagedb and installed Message DB 1\.3\.0$/m);
    const [versions] = records(result);
    assert.equal(versions?.engine, 'pglite');
    assert.equal(versions?.messageDb, '1.3.0');
    assert.ok(existsSync(join(cwd, '.messagedb', 'PG_VERSION')));
    assert.ok(!existsSync(join(cwd, '.messagedb', 'messagedb.lock')), 'the lock is released');
  });

  test('install on an existing embedded database only verifies it', async () => {
    const result = await cli('install');
    assertOk(result);
    assert.equal(records(result)[0]?.action, 'verified');
    assert.doesNotMatch(result.stderr, /created/);
  });

  test('write stores a message and prints its position', async () => {
    const written = await cli('write', 'account-1', 'Opened', '{"owner": "Ada"}');
    assertOk(written);
    assert.equal(records(written)[0]?.position, 0);
  });

  test('write --file writes every line, and read prints them back per stream and per category', async () => {
    const file = join(cwd, 'messages.ndjson');
    const lines = [
      { streamName: 'account-1', type: 'Deposited', data: { amount: 10 } },
      { streamName: 'account-2', type: 'Opened', data: { owner: 'Grace' } },
      { streamName: 'account-2', type: 'Deposited', data: { amount: 20 } },
      { streamName: 'account:position-reporter', type: 'Recorded', data: { position: 2 } },
    ];
    writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n'));
    const result = await cli('write', '--file', 'messages.ndjson');
    assertOk(result);
    assert.equal(records(result)[0]?.written, 4);
    const stream = records<MessageRecord>(await cli('read', 'account-2'));
    assert.deepEqual(
      stream.map((message) => [message.type, message.position, message.data]),
      [
        ['Opened', 0, { owner: 'Grace' }],
        ['Deposited', 1, { amount: 20 }],
      ],
    );
    const category = records<MessageRecord>(await cli('read', 'account', '--type', 'Deposited'));
    assert.deepEqual(
      category.map((message) => message.streamName),
      ['account-1', 'account-2'],
    );
  });

  test('last prints the last message of a stream', async () => {
    const [last] = records<MessageRecord>(await cli('last', 'account-1'));
    assert.deepEqual([last?.type, last?.position], ['Deposited', 1]);
  });

  test('stats and consumers read the embedded database', async () => {
    const [totals] = records(await cli('stats', '--by', 'totals'));
    assert.deepEqual([totals?.messages, totals?.streams, totals?.categories], [5, 3, 2]);
    const [consumer] = records(await cli('consumers'));
    assert.equal(consumer?.positionStream, 'account:position-reporter');
    assert.equal(consumer?.position, 2);
    assert.equal(consumer?.head, 4);
    assert.equal(consumer?.lag, 2);
  });

  test('while tail holds the embedded database another command and a library client are refused naming it, and Ctrl-C ends tail with 0', async () => {
    const tail = spawnCli(['tail', 'account', '--position', '1'], { cwd });
    try {
      const reader = new LineReader(tail);
      await reader.until(() => reader.lines.length >= 4, "tail's first messages", 60_000);
      const streams = reader.lines.map((line) => (JSON.parse(line) as MessageRecord).streamName);
      assert.deepEqual(streams, ['account-1', 'account-1', 'account-2', 'account-2']);
      assertFails(
        await cli('read', 'account'),
        4,
        new RegExp(`^messagedb: the embedded database in \\./\\.messagedb is in use by process ${tail.pid} on .* \\(node main\\.js tail\\) since `),
      );
      const opened = await MessageDbClient.embedded({ dataDir: join(cwd, '.messagedb') }).then(
        async (client) => client.close(),
        (error: unknown) => error,
      );
      assert.ok(isDataDirLockedError(opened), `the library client is refused, got ${String(opened)}`);
      assert.equal(opened.holder?.pid, tail.pid);
      tail.kill('SIGINT');
      assert.equal(await exitCode(tail), 0, reader.stderr);
    } finally {
      tail.kill('SIGKILL');
    }
    assert.ok(!existsSync(join(cwd, '.messagedb', 'messagedb.lock')), 'the lock is released');
  });

  test('while a program holds the embedded database, write exits 4 naming it and stores nothing; after close it writes', async () => {
    const client = await MessageDbClient.embedded({ dataDir: join(cwd, '.messagedb') });
    try {
      assertFails(await cli('write', 'held-1', 'Opened', '{}'), 4, new RegExp(`in use by process ${process.pid} on `));
    } finally {
      await client.close();
    }
    assertOk(await cli('write', 'held-1', 'Opened', '{}'));
    assert.deepEqual(
      records<MessageRecord>(await cli('read', 'held-1')).map((message) => message.position),
      [0],
    );
  });

  test('--data-dir refuses a directory that holds other files', async () => {
    const other = join(cwd, 'documents');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'not a database');
    assertFails(await cli('version', '--data-dir', 'documents'), 2, /documents is not an embedded database directory/);
  });
});
