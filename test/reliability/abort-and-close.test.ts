/**
 * No call hangs: on a real server, every call settles promptly when its signal fires or the client
 * closes, in every state (waiting for a pooled connection, sending or waiting for rows on a frozen
 * network, waiting out a retry's backoff), and a call on a frozen network ends by default. Network
 * faults come from a real TCP proxy; a busy pool from a write waiting on a category lock.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import { AbortError, ClosedError, ConnectionError, MessageDbClient, isAbortError, isClosedError, type ConnectConfig, type Logger } from '../../src/index.ts';
import { defaultQueryTimeoutMs, resolveConnectConfig } from '../../src/store/config.ts';
import { holdCategoryLock } from '../support/category-lock.ts';
import { adminQuery, createDatabase, onFileEnd, pgliteClient, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { startFaultProxy, type FaultProxy } from '../support/reliability-proxy.ts';

/** How a call settled, and how long after `since` (performance.now()) it did. */
interface Settled {
  ms: number;
  value?: unknown;
  error?: unknown;
}

function settle(work: Promise<unknown>): () => Promise<Settled & { after(since: number): number }> {
  let at = 0;
  const settled = work
    .then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    )
    .then((outcome) => {
      at = performance.now();
      return outcome;
    });
  return async () => {
    const outcome = await settled;
    return { ...outcome, ms: at, after: (since: number) => at - since };
  };
}

/** Resolves once `condition()` holds (polled; it reads state that has no event). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves once a session of `applicationName` waits on an advisory lock (a write blocked by `holdCategoryLock`). */
function untilBlocked(applicationName: string, sessions = 1): Promise<void> {
  return until(async () => {
    const [row] = await adminQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1`,
      [applicationName],
    );
    return (row?.n ?? 0) >= sessions;
  }, `${sessions} write(s) waiting on the category lock`);
}

/** A logger that tells when a call starts waiting out a retry's backoff (its 'connection_fault' event). */
function retryWatch(): { logger: Logger; retrying: Promise<void> } {
  let retried = (): void => {};
  const retrying = new Promise<void>((resolve) => (retried = resolve));
  const ignore = (): void => {};
  const logger: Logger = {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (fields) => {
      if (fields.event === 'connection_fault' && fields.retrying === true) retried();
    },
  };
  return { logger, retrying };
}

describe('close and abort on a busy pool', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
    await postgresClient({}, database);
  });

  async function open(config: ConnectConfig = {}): Promise<{ client: MessageDbClient; applicationName: string }> {
    const applicationName = `mdbabort-${randomBytes(4).toString('hex')}`;
    const client = await MessageDbClient.connect({ connectionString: database.url, applicationName, ...config });
    onFileEnd(() => client.close());
    return { client, applicationName };
  }

  test('close() settles every call still waiting for a connection with ClosedError at once, and lets the calls in flight finish', async () => {
    const { client, applicationName } = await open({ maxPoolSize: 2 });
    const category = randomCategory();
    const lock = await holdCategoryLock(database.url, category);
    const writes = Array.from({ length: 6 }, (_, i) => settle(client.writeMessage({ streamName: `${category}-${i}`, type: 'Queued' })));
    await untilBlocked(applicationName, 2);
    assert.equal(client.poolStats().waiting, 4);
    const closedAt = performance.now();
    const closing = settle(client.close());
    const queued = await Promise.all(writes.slice(2).map((outcome) => outcome()));
    for (const outcome of queued) {
      assert.ok(outcome.error instanceof ClosedError, String(outcome.error));
      assert.ok(outcome.after(closedAt) < 1000, `settled ${Math.round(outcome.after(closedAt))} ms after close()`);
    }
    await lock.release();
    const inFlight = await Promise.all(writes.slice(0, 2).map((outcome) => outcome()));
    assert.deepEqual(
      inFlight.map((outcome) => outcome.value),
      [0, 0],
      'the writes already sent were committed',
    );
    assert.equal((await closing()).error, undefined);
    const [row] = await adminQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM message_store.messages WHERE message_store.category(stream_name) = $1`,
      [category],
      database.url,
    );
    assert.equal(row?.n, 2);
  });

  test('an abort while waiting for a pooled connection settles with AbortError at once, and the caller leaves the queue', async () => {
    const { client, applicationName } = await open({ maxPoolSize: 1, connectTimeoutMs: 20_000 });
    const category = randomCategory();
    const lock = await holdCategoryLock(database.url, category);
    const blocked = settle(client.writeMessage({ streamName: `${category}-1`, type: 'Holding' }));
    await untilBlocked(applicationName);
    const controller = new AbortController();
    const queued = settle(client.getStreamMessages(`${category}-2`, { signal: controller.signal }));
    assert.equal(client.poolStats().waiting, 1);
    const abortedAt = performance.now();
    controller.abort();
    const outcome = await queued();
    assert.ok(outcome.error instanceof AbortError, String(outcome.error));
    assert.ok(outcome.after(abortedAt) < 1000, `settled ${Math.round(outcome.after(abortedAt))} ms after abort()`);
    assert.equal(client.poolStats().waiting, 0);
    await lock.release();
    assert.equal((await blocked()).value, 0);
    assert.equal(await client.writeMessage({ streamName: `${category}-1`, type: 'After' }), 1, 'the pool still works');
  });

  test('close() ends a retry waiting out its backoff with ClosedError at once', async () => {
    const proxy = await faultProxy(database);
    const { logger, retrying } = retryWatch();
    const client = await MessageDbClient.connect({ connectionString: proxy.url, logger, retry: { initialDelayMs: 5000, maxDelayMs: 5000 } });
    onFileEnd(() => client.close());
    await client.streamVersion(`${randomCategory()}-1`);
    proxy.down();
    const reading = settle(client.streamVersion(`${randomCategory()}-1`));
    // The first attempt fails at once (every connection is cut); the retry then waits 2.5-5 s.
    await retrying;
    const closedAt = performance.now();
    await client.close();
    const outcome = await reading();
    assert.ok(isClosedError(outcome.error), String(outcome.error));
    assert.ok(outcome.after(closedAt) < 1000, `settled ${Math.round(outcome.after(closedAt))} ms after close()`);
  });
});

/** A process that writes with a pool of 1 (the first write blocked on the parent's category lock), closes, and should then exit. */
const closingChild = `
  const { MessageDbClient, isClosedError } = await import(process.env.CLIENT_MODULE);
  const client = await MessageDbClient.connect({ connectionString: process.env.DATABASE, maxPoolSize: 1 });
  const category = process.env.CATEGORY;
  const writes = [0, 1, 2].map((i) => client.writeMessage({ streamName: category + '-' + i, type: 'Queued' }).then(
    (position) => 'written ' + position,
    (error) => (isClosedError(error) ? 'ClosedError' : String(error)),
  ));
  while (client.poolStats().waiting < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  const closing = client.close();
  console.log(JSON.stringify(await Promise.all(writes.slice(1))));
  console.log(JSON.stringify([await writes[0]]));
  await closing;
`;

describe('a process that closes its client', () => {
  test('exits as soon as the call in flight finished: no call is left waiting for a connection', async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    const category = randomCategory();
    const lock = await holdCategoryLock(database.url, category);
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', closingChild], {
      env: { ...process.env, DATABASE: database.url, CATEGORY: category, CLIENT_MODULE: fileURLToPath(new URL('../../src/index.ts', import.meta.url)) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    const lines: string[] = [];
    let onLine: () => void = () => {};
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      lines.push(...chunk.split('\n').filter((line) => line !== ''));
      onLine();
    });
    const lineCount = (n: number): Promise<void> =>
      new Promise((resolve) => {
        onLine = () => lines.length >= n && resolve();
        onLine();
      });
    // The queued writes settle while the first one still waits on the lock.
    await lineCount(1);
    assert.deepEqual(JSON.parse(lines[0] ?? ''), ['ClosedError', 'ClosedError']);
    const releasedAt = performance.now();
    await lock.release();
    const guard = new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 15_000).unref());
    const outcome = await Promise.race([exited, guard]);
    if (outcome === 'running') child.kill();
    assert.notEqual(outcome, 'running', 'the process had not exited 15 s after the write in flight could finish');
    assert.deepEqual(outcome, [0, null]);
    assert.ok(performance.now() - releasedAt < 5000, `exited ${Math.round(performance.now() - releasedAt)} ms after the lock was released`);
    assert.deepEqual(JSON.parse(lines[1] ?? ''), ['written 0'], 'the write in flight was committed');
  });
});

describe('close and abort on PGlite', () => {
  test('a call waiting its turn leaves at abort with AbortError, and close() settles the calls still waiting with ClosedError', async () => {
    const client = await pgliteClient();
    const streamName = `${randomCategory()}-1`;
    let inside: () => void = () => {};
    const transactionRuns = new Promise<void>((resolve) => (inside = resolve));
    let finish: () => void = () => {};
    const transaction = client.transaction(async (tx) => {
      await tx.streamVersion(streamName);
      inside();
      await new Promise<void>((resolve) => (finish = resolve));
    });
    await transactionRuns;
    const controller = new AbortController();
    const aborted = settle(client.writeMessage({ streamName, type: 'Aborted' }, { signal: controller.signal }));
    const queued = [settle(client.writeMessage({ streamName, type: 'Queued' })), settle(client.getStreamMessages(streamName))];
    assert.equal(client.poolStats().waiting, 3);
    const abortedAt = performance.now();
    controller.abort();
    const guard = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still waiting 5 s after abort()')), 5000).unref());
    const abortOutcome = await Promise.race([aborted(), guard]);
    assert.ok(isAbortError(abortOutcome.error), String(abortOutcome.error));
    assert.ok(abortOutcome.after(abortedAt) < 1000, `settled ${Math.round(abortOutcome.after(abortedAt))} ms after abort()`);
    const closedAt = performance.now();
    const closing = client.close();
    for (const outcome of await Promise.race([Promise.all(queued.map((call) => call())), guard])) {
      assert.ok(isClosedError(outcome.error), String(outcome.error));
      assert.ok(outcome.after(closedAt) < 1000, `settled ${Math.round(outcome.after(closedAt))} ms after close()`);
    }
    finish();
    await transaction;
    await closing;
  });
});

interface TestProxy extends FaultProxy {
  url: string;
}

async function faultProxy(database: TestDatabase): Promise<TestProxy> {
  const target = new URL(database.url);
  const proxy = await startFaultProxy(target.hostname, Number(target.port || 5432));
  onFileEnd(() => proxy.close());
  const url = new URL(database.url);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return Object.assign(proxy, { url: url.toString() });
}

describe('a frozen network', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
    await postgresClient({}, database);
  });

  async function frozenClient(config: ConnectConfig = {}): Promise<{ client: MessageDbClient; proxy: TestProxy }> {
    const proxy = await faultProxy(database);
    const client = await MessageDbClient.connect({ ...config, connectionString: proxy.url });
    onFileEnd(() => client.close());
    // One connection open and ready, then the network freezes under it.
    await client.streamVersion(`${randomCategory()}-1`);
    proxy.blackHole();
    return { client, proxy };
  }

  test('an abort of a call sent on a frozen network settles with AbortError at once', async () => {
    const { client, proxy } = await frozenClient({ connectTimeoutMs: 20_000 });
    const controller = new AbortController();
    const writing = settle(client.writeMessage({ streamName: `${randomCategory()}-1`, type: 'Frozen' }, { signal: controller.signal }));
    // The write took the open connection and sent its statement into the black hole.
    await until(() => client.poolStats().idle === 0, 'the write took the connection');
    const abortedAt = performance.now();
    controller.abort();
    const outcome = await writing();
    assert.ok(isAbortError(outcome.error), String(outcome.error));
    assert.ok(outcome.after(abortedAt) < 1500, `settled ${Math.round(outcome.after(abortedAt))} ms after abort()`);
    proxy.up();
    assert.equal(await client.writeMessage({ streamName: `${randomCategory()}-1`, type: 'After' }), 0, 'a new connection works: the frozen one was not reused');
  });

  test('an abort while retrying settles with AbortError at once', async () => {
    const { logger, retrying } = retryWatch();
    const { client } = await frozenClient({ logger, queryTimeoutMs: 300, connectTimeoutMs: 300, retry: { initialDelayMs: 5000, maxDelayMs: 5000 } });
    const controller = new AbortController();
    const reading = settle(client.getStreamMessages(`${randomCategory()}-1`, { signal: controller.signal }));
    // The first attempt times out after queryTimeoutMs; the retry waits 2.5-5 s before the next.
    await retrying;
    const abortedAt = performance.now();
    controller.abort();
    const outcome = await reading();
    assert.ok(isAbortError(outcome.error), String(outcome.error));
    assert.ok(outcome.after(abortedAt) < 1000, `settled ${Math.round(outcome.after(abortedAt))} ms after abort()`);
  });

  test('a call on a frozen network fails with ConnectionError within queryTimeoutMs plus connectTimeoutMs', async () => {
    const { client } = await frozenClient({ queryTimeoutMs: 1000, connectTimeoutMs: 1000, retry: { maxAttempts: 2, initialDelayMs: 10 } });
    const startedAt = performance.now();
    const streamName = `${randomCategory()}-1`;
    const writing = settle(client.writeMessage({ streamName, type: 'Frozen' }));
    // Should the bound not hold, the test fails here instead of hanging.
    const guard = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 15_000).unref());
    const outcome = await Promise.race([writing(), guard]);
    assert.notEqual(outcome, 'pending', 'still pending after 15 s');
    const { error } = outcome as Settled & { after(since: number): number };
    assert.ok(error instanceof ConnectionError, String(error));
    const ms = (outcome as { after(since: number): number }).after(startedAt);
    // One read timeout, a backoff of at most 10 ms, one connect timeout.
    assert.ok(ms < 1000 + 1000 + 1500, `failed after ${Math.round(ms)} ms`);
  });

  test('by default, keepalive is on and a call waits a finite, documented time for an answer', () => {
    const config = resolveConnectConfig('postgres://localhost/db', {});
    assert.equal(config.queryTimeoutMs, defaultQueryTimeoutMs);
    assert.equal(defaultQueryTimeoutMs, 60_000);
    assert.equal(config.keepAliveInitialDelayMs, 10_000);
    // With a statement timeout, the client waits that long plus the connect timeout.
    assert.equal(
      resolveConnectConfig({ connectionString: 'postgres://localhost/db', statementTimeoutMs: 500, connectTimeoutMs: 700 }, {}).queryTimeoutMs,
      1200,
    );
  });
});
