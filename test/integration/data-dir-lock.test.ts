/**
 * One opener at a time on an embedded database directory, in this process or another: PGlite lets
 * two openers both succeed, and then one side's acknowledged writes are gone after a reopen. Other
 * processes run a few lines of the library through tsx; opening PGlite takes seconds, so the tests
 * share one directory where they can.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { MessageDbClient, isDataDirLockedError, type DataDirLockedError } from '../../src/index.ts';
import { randomStreamName } from '../support/databases.ts';

const libraryUrl = pathToFileURL(join(import.meta.dirname, '../../src/index.ts')).href;
const lockFileName = 'messagedb.lock';

/** Another process that opens `dataDir`, says `open` (or the error's code and holder pid), then closes when stdin ends. */
function spawnOpener(dataDir: string): ChildProcessWithoutNullStreams {
  const script = `
    const { MessageDbClient } = await import(process.env.LIBRARY_URL);
    try {
      const client = await MessageDbClient.embedded({ dataDir: process.env.DATA_DIR });
      process.stdout.write('open\\n');
      process.stdin.resume();
      process.stdin.once('end', async () => { await client.close(); process.stdout.write('closed\\n'); });
    } catch (error) {
      process.stdout.write(JSON.stringify({ code: error.code, holderPid: error.holder?.pid }) + '\\n');
    }`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, LIBRARY_URL: libraryUrl, DATA_DIR: dataDir },
  });
}

/** The child's first stdout line (its outcome); fails with its stderr if it exits first. */
function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
    child.once('close', (code) => reject(new Error(`child exited ${code} before a line: ${stderr}`)));
  });
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('close', resolve));
}

async function refused(open: Promise<MessageDbClient>): Promise<DataDirLockedError> {
  const outcome = await open.then(
    async (client) => {
      await client.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  assert.ok(isDataDirLockedError(outcome), `expected DataDirLockedError, got ${outcome === undefined ? 'an open client' : String(outcome)}`);
  return outcome;
}

describe('one opener at a time on an embedded database directory', () => {
  let root: string;
  let dataDir: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'messagedb-lock-'));
    dataDir = join(root, 'data');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a second client in this process is refused with DataDirLockedError naming this process, also through another path', async () => {
    const first = await MessageDbClient.embedded({ dataDir });
    try {
      const error = await refused(MessageDbClient.embedded({ dataDir }));
      assert.equal(error.holder?.pid, process.pid);
      assert.match(error.message, new RegExp(`already open by this process \\(pid ${process.pid}\\)`));
      const link = join(root, 'same-data');
      symlinkSync(dataDir, link);
      await refused(MessageDbClient.embedded({ dataDir: link }));
    } finally {
      await first.close();
    }
  });

  test('after the first client closes, a new one opens the directory', async () => {
    const client = await MessageDbClient.embedded({ dataDir });
    assert.ok(existsSync(join(dataDir, lockFileName)), 'the open client holds the lock file');
    await client.close();
    assert.ok(!existsSync(join(dataDir, lockFileName)), 'close() removes the lock file');
    const again = await MessageDbClient.embedded({ dataDir });
    await again.close();
  });

  test('another process is refused, naming this one, while a client here holds the directory', async () => {
    const client = await MessageDbClient.embedded({ dataDir });
    try {
      const child = spawnOpener(dataDir);
      const line = await firstLine(child);
      child.stdin.end();
      assert.deepEqual(JSON.parse(line), { code: 'DATA_DIR_LOCKED', holderPid: process.pid });
      await exited(child);
    } finally {
      await client.close();
    }
  });

  test('a client here is refused, naming the other process, while it holds the directory; it opens once that one closed', async () => {
    const child = spawnOpener(dataDir);
    try {
      assert.equal(await firstLine(child), 'open');
      const error = await refused(MessageDbClient.embedded({ dataDir }));
      assert.equal(error.holder?.pid, child.pid);
      assert.equal(error.holder?.hostname, hostname());
      assert.match(error.message, new RegExp(`already open by process ${child.pid} on `));
      child.stdin.end();
      assert.equal(await exited(child), 0);
      const client = await MessageDbClient.embedded({ dataDir });
      await client.close();
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('the lock of a process killed while it held the directory is taken over', async () => {
    const child = spawnOpener(dataDir);
    assert.equal(await firstLine(child), 'open');
    child.kill('SIGKILL');
    await exited(child);
    const left = JSON.parse(readFileSync(join(dataDir, lockFileName), 'utf8')) as { pid: number };
    assert.equal(left.pid, child.pid, 'the killed process left its lock file');
    const client = await MessageDbClient.embedded({ dataDir });
    const taken = JSON.parse(readFileSync(join(dataDir, lockFileName), 'utf8')) as { pid: number };
    assert.equal(taken.pid, process.pid);
    await client.close();
  });

  test('a lock file with this pid but not from this process (a restarted container) is taken over', async () => {
    const record = { pid: process.pid, hostname: hostname(), since: new Date(0).toISOString(), command: 'node app.js', token: randomUUID() };
    writeFileSync(join(dataDir, lockFileName), JSON.stringify(record));
    const client = await MessageDbClient.embedded({ dataDir });
    await client.close();
  });

  test('a lock file of a process on another host is respected and named', async () => {
    const record = { pid: 4242, hostname: 'elsewhere.example', since: '2026-01-01T00:00:00.000Z', command: 'node app.js', token: randomUUID() };
    writeFileSync(join(dataDir, lockFileName), JSON.stringify(record));
    try {
      const error = await refused(MessageDbClient.embedded({ dataDir }));
      assert.deepEqual(error.holder, { pid: 4242, hostname: 'elsewhere.example', since: '2026-01-01T00:00:00.000Z', command: 'node app.js' });
      assert.match(error.message, /already open by process 4242 on elsewhere\.example \(node app\.js\), since 2026-01-01/);
    } finally {
      rmSync(join(dataDir, lockFileName));
    }
  });

  test('all 300 writes the holder acknowledged are there after reopening, whatever a second opener did meanwhile', async () => {
    const holder = await MessageDbClient.embedded({ dataDir });
    const holderStream = randomStreamName();
    const otherStream = randomStreamName();
    // Without the lock the second client opens too, writes its own, and one side's writes are lost.
    const second = await MessageDbClient.embedded({ dataDir }).catch((error: unknown) => {
      assert.ok(isDataDirLockedError(error), String(error));
      return undefined;
    });
    const writes = async (client: MessageDbClient | undefined, streamName: string): Promise<void> => {
      for (let index = 0; index < 300 && client !== undefined; index++) await client.writeMessage({ streamName, type: 'Written', data: { index } });
    };
    await Promise.all([writes(holder, holderStream), writes(second, otherStream)]);
    await holder.close();
    await second?.close();
    const reopened = await MessageDbClient.embedded({ dataDir });
    try {
      const messages = await reopened.getStreamMessages(holderStream, { batchSize: 1000 });
      assert.equal(messages.length, 300, `${messages.length} of 300 acknowledged writes after reopening`);
      assert.equal(second, undefined, 'the second opener was refused');
    } finally {
      await reopened.close();
    }
  });

  test('the in-memory database takes no lock: two in-memory clients open side by side', async () => {
    const [one, two] = await Promise.all([MessageDbClient.embedded(), MessageDbClient.embedded({ dataDir: 'memory://' })]);
    await Promise.all([one.close(), two.close()]);
  });
});
