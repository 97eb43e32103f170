/**
 * One opener at a time on an embedded database directory, in this process or another: PGlite lets
 * two openers both succeed, and then one side's acknowledged writes are gone after a reopen. Other
 * processes run a few lines of the library through tsx; opening PGlite takes seconds, so the tests
 * share one directory where they can.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import { MessageDbClient, isDataDirLockedError, isInvalidArgumentError, type DataDirLockedError } from '../../src/index.ts';
import { randomStreamName } from '../support/databases.ts';

const libraryUrl = pathToFileURL(join(import.meta.dirname, '../../src/index.ts')).href;
const lockModuleUrl = pathToFileURL(join(import.meta.dirname, '../../src/engine/data-dir-lock.ts')).href;
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

/**
 * Another process that takes the bare lock on `dataDir` on each `go` line (answering `won`, or
 * `refused` with DataDirLockedError) and gives it back on `release` (answering `released`).
 */
function spawnLocker(dataDir: string): { child: ChildProcessWithoutNullStreams; next(): Promise<string> } {
  const script = `
    const { lockDataDir } = await import(process.env.LOCK_URL);
    const { createInterface } = await import('node:readline');
    let lock;
    const say = (line) => process.stdout.write(line + '\\n');
    say('ready');
    for await (const line of createInterface({ input: process.stdin })) {
      if (line === 'go') {
        try { lock = lockDataDir(process.env.DATA_DIR); say('won'); }
        catch (error) { say(error.code === 'DATA_DIR_LOCKED' ? 'refused' : 'failed: ' + error.message); }
      } else if (line === 'release') { lock?.release(); lock = undefined; say('released'); }
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, LOCK_URL: lockModuleUrl, DATA_DIR: dataDir },
  });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      const waiter = waiting.shift();
      if (waiter === undefined) lines.push(line);
      else waiter(line);
    }
  });
  const next = (): Promise<string> => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (child.exitCode !== null) return Promise.reject(new Error(`locker exited: ${stderr}`));
    return new Promise((resolve) => waiting.push(resolve));
  };
  return { child, next };
}

/** The text of a lock file as the library writes it, from another (or an earlier) holder. */
function lockRecord(holder: { pid: number; hostname?: string; since?: string; command?: string }): string {
  return JSON.stringify({ hostname: hostname(), since: new Date(0).toISOString(), command: 'node app.js', token: randomUUID(), processStart: 0, ...holder });
}

/** A pid that no running process has: one that has just exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  assert.ok(pid !== undefined && pid > 0);
  return pid;
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

  test('a process that exits without closing removes its lock file', async () => {
    const exitDir = join(root, 'exit');
    const script = `
      const { lockDataDir } = await import(process.env.LOCK_URL);
      lockDataDir(process.env.DATA_DIR);
      process.stdout.write(String(existsSync(process.env.LOCK_FILE)) + '\\n');
      process.exit(0);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { existsSync } from 'node:fs';${script}`], {
      env: { ...process.env, LOCK_URL: lockModuleUrl, DATA_DIR: exitDir, LOCK_FILE: join(exitDir, lockFileName) },
    });
    assert.equal(await firstLine(child), 'true', 'the child held the lock file');
    assert.equal(await exited(child), 0);
    assert.ok(!existsSync(join(exitDir, lockFileName)), 'the exit handler removed it');
  });

  test('a lock file with this pid but not from this process (a restarted container) is taken over', async () => {
    const earlier = lockRecord({ pid: process.pid });
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, lockFileName), earlier);
    const client = await MessageDbClient.embedded({ dataDir });
    assert.notEqual(readFileSync(join(dataDir, lockFileName), 'utf8'), earlier, "the lock file is this client's now");
    await client.close();
  });

  test('a lock file of a process on another host is respected and named', async () => {
    const holder = { pid: 4242, hostname: 'elsewhere.example', since: '2026-01-01T00:00:00.000Z', command: 'node app.js' };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, lockFileName), lockRecord(holder));
    try {
      const error = await refused(MessageDbClient.embedded({ dataDir }));
      assert.deepEqual(error.holder, holder);
      assert.match(error.message, /already open by process 4242 on elsewhere\.example \(node app\.js\), since 2026-01-01/);
    } finally {
      rmSync(join(dataDir, lockFileName));
    }
  });

  test('of four processes taking over one stale lock at once, one wins and the others are refused, round after round', async () => {
    const raceDir = join(root, 'race');
    mkdirSync(raceDir);
    const lockers = Array.from({ length: 4 }, () => spawnLocker(raceDir));
    try {
      for (const locker of lockers) assert.equal(await locker.next(), 'ready');
      const gone = deadPid();
      for (let round = 0; round < 25; round++) {
        writeFileSync(join(raceDir, lockFileName), lockRecord({ pid: gone, command: 'node gone.js' }));
        for (const locker of lockers) locker.child.stdin.write('go\n');
        const outcomes = await Promise.all(lockers.map((locker) => locker.next()));
        assert.deepEqual(outcomes.toSorted(), ['refused', 'refused', 'refused', 'won'], `round ${round}: ${outcomes.join(', ')}`);
        for (const locker of lockers) locker.child.stdin.write('release\n');
        for (const locker of lockers) assert.equal(await locker.next(), 'released');
        assert.ok(!existsSync(join(raceDir, lockFileName)), 'the winner released the lock');
      }
    } finally {
      for (const { child } of lockers) child.stdin.end();
      await Promise.all(lockers.map(({ child }) => exited(child)));
    }
  });

  test('a lock held by a worker thread of this process is respected and names this process', async () => {
    const workerDir = join(root, 'worker');
    // A worker has a registry of its own (its own globals): only the lock file stands between the two.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { lockDataDir } = require('tsx/cjs/api').require(workerData.lockModulePath, workerData.lockModulePath);
       const lock = lockDataDir(workerData.dataDir);
       parentPort.postMessage('locked');
       parentPort.once('message', () => { lock.release(); parentPort.close(); });`,
      { eval: true, workerData: { lockModulePath: fileURLToPath(lockModuleUrl), dataDir: workerDir } },
    );
    try {
      assert.equal(await once(worker, 'message').then(([message]) => message as string), 'locked');
      const error = await refused(MessageDbClient.embedded({ dataDir: workerDir, install: false }));
      assert.equal(error.holder?.pid, process.pid);
    } finally {
      worker.postMessage('release');
      await once(worker, 'exit');
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

  test('an empty dataDir is refused with InvalidArgumentError before anything opens', async () => {
    await assert.rejects(
      MessageDbClient.embedded({ dataDir: '' }),
      (error: unknown) => isInvalidArgumentError(error) && /dataDir must be a directory path/.test(error.message),
    );
  });

  test('in-memory databases take no lock: two memory:// clients open side by side', async () => {
    const open = () => MessageDbClient.embedded({ dataDir: 'memory://', install: false });
    const clients = await Promise.all([open(), open()]);
    await Promise.all(clients.map((client) => client.close()));
  });
});
