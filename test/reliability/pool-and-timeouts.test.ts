/**
 * Pool exhaustion, timeouts and lost networks on a real server: every failure is a typed error
 * within the configured time, nothing hangs, the pool is healthy afterwards, and no connection is
 * ever handed back to the pool inside a transaction. The faults the integration suite already
 * covers (a pool timeout, a statement timeout outside a transaction, a refused or silent server at
 * connect) are not repeated here.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import {
  AbortError,
  ConnectionError,
  MessageDbClient,
  StatementTimeoutError,
  TransactionRolledBackError,
  isConnectionError,
  isPoolTimeoutError,
  type ConnectConfig,
  type Transaction,
} from '../../src/index.ts';
import { adminQuery, createDatabase, engines, onFileEnd, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { holdCategoryLock } from '../support/category-lock.ts';
import { startFaultProxy, type FaultProxy } from '../support/reliability-proxy.ts';

/** Resolves once a session of `applicationName` waits on an advisory lock (a write blocked by `holdCategoryLock`). */
async function untilBlocked(applicationName: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await adminQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1`,
      [applicationName],
    );
    if ((row?.n ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error('no write ever waited on the category lock');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The states of the server sessions opened under `applicationName`. */
async function sessionStates(applicationName: string): Promise<string[]> {
  const rows = await adminQuery<{ state: string }>('SELECT state FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  return rows.map((row) => row.state);
}

/** Milliseconds `work` took to settle, and how it settled. */
async function timed(work: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: performance.now() - started, error };
}

for (const engine of engines) {
  describe(`a failed statement inside a transaction on ${engine.name}`, () => {
    test('rolls the transaction back and rejects it, even when the callback caught the error', async () => {
      const client = await engine.open();
      const streamName = `${randomCategory()}-1`;
      let position: number | undefined;
      const error = await client
        .transaction(async (tx) => {
          position = await tx.writeMessage({ streamName, type: 'Opened' });
          await tx.writeMessage({ streamName, type: 'Late', expectedVersion: 7 }).catch(() => {});
        })
        .catch((e: unknown) => e);
      assert.equal(position, 0, 'the first write was acknowledged inside the transaction');
      assert.ok(error instanceof TransactionRolledBackError, `got ${String(error)}`);
      assert.equal(error.code, 'ROLLED_BACK');
      assert.equal(await client.streamVersion(streamName), -1, 'the transaction was rolled back');
    });
  });
}

describe('transactions and the pool', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
    await postgresClient({}, database);
  });

  async function open(config: ConnectConfig = {}): Promise<{ client: MessageDbClient; applicationName: string }> {
    const applicationName = `mdbrel-${randomBytes(4).toString('hex')}`;
    const client = await MessageDbClient.connect({ connectionString: database.url, applicationName, ...config });
    onFileEnd(() => client.close());
    return { client, applicationName };
  }

  test('after transactions failing in every way, no pooled connection is left inside a transaction', async () => {
    const { client, applicationName } = await open({ maxPoolSize: 2, statementTimeoutMs: 300, retry: { initialDelayMs: 10 } });
    const category = randomCategory();
    const streamName = `${category}-1`;
    const outcomes: unknown[] = [];
    const attempt = async (fn: (tx: Transaction) => Promise<unknown>): Promise<void> => {
      outcomes.push(
        await client.transaction(fn).then(
          () => 'committed',
          (error: unknown) => error,
        ),
      );
    };

    // The callback throws after a write.
    await attempt(async (tx) => {
      await tx.writeMessage({ streamName, type: 'Thrown' });
      throw new Error('callback failed');
    });
    // A statement fails and the callback swallows it.
    await attempt(async (tx) => {
      await tx.writeMessage({ streamName, type: 'Swallowed', expectedVersion: 9 }).catch(() => {});
    });
    // A statement runs past statementTimeoutMs.
    const lock = await holdCategoryLock(database.url, category);
    await attempt((tx) => tx.writeMessage({ streamName, type: 'TimedOut' }).then(() => {}));
    // A statement is aborted while it runs.
    const controller = new AbortController();
    const aborted = attempt((tx) => tx.writeMessage({ streamName, type: 'Aborted' }, { signal: controller.signal }).then(() => {}));
    await untilBlocked(applicationName);
    controller.abort();
    await aborted;
    await lock.release();
    // The transaction's backend is terminated between two statements.
    await attempt(async (tx) => {
      await tx.writeMessage({ streamName, type: 'Terminated' });
      await adminQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'", [
        applicationName,
      ]);
      await tx.writeMessage({ streamName, type: 'AfterTermination' });
    });

    assert.equal(outcomes.length, 5);
    assert.ok(
      outcomes.every((outcome) => outcome instanceof Error),
      'every transaction failed',
    );
    assert.ok(outcomes[1] instanceof TransactionRolledBackError, String(outcomes[1]));
    assert.ok(outcomes[2] instanceof StatementTimeoutError, String(outcomes[2]));
    assert.ok(outcomes[3] instanceof AbortError, String(outcomes[3]));
    assert.ok(outcomes[4] instanceof ConnectionError, String(outcomes[4]));
    assert.equal(await client.streamVersion(streamName), -1, 'nothing of a failed transaction was written');

    const states = await sessionStates(applicationName);
    assert.ok(
      states.every((state) => state === 'idle'),
      `session states: ${states.join(', ')}`,
    );
    // Every pooled connection, used at once, takes a new transaction.
    const positions = await Promise.all(
      [0, 1, 2, 3].map((i) => client.transaction((tx) => tx.writeMessage({ streamName: `${category}-${i + 2}`, type: 'Healthy' }))),
    );
    assert.deepEqual(positions, [0, 0, 0, 0]);
    assert.ok(client.poolStats().total <= 2);
  });

  test('a connection whose backend is terminated between two calls is never handed out again', async () => {
    // One attempt per call: a call that got the dead connection would fail instead of being retried.
    const { client, applicationName } = await open({ maxPoolSize: 2, retry: { maxAttempts: 1 } });
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    onFileEnd(() => admin.end());
    const streamName = `${randomCategory()}-1`;
    for (let round = 0; round < 3; round++) {
      // Both connections in use, then both finished with: they wait for the next call (for a second).
      await Promise.all([0, 1].map((i) => client.writeMessage({ streamName: `${streamName}${i}`, type: 'Before' })));
      const { rows } = await admin.query<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1', [
        applicationName,
      ]);
      assert.equal(rows[0]?.n, 2);
      // The termination reaches the client as the connections' error and end events.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await client.writeMessage({ streamName, type: 'After' }), round);
      assert.equal((await client.getStreamMessages(streamName)).length, round + 1);
    }
    assert.ok(client.poolStats().total <= 2);
  });

  test('callers beyond the pool size get connections as they are finished with, without waiting for them to linger', async () => {
    const { client } = await open({ maxPoolSize: 1 });
    const category = randomCategory();
    // Each write waits its turn for the one connection; none waits out a linger period.
    const started = performance.now();
    await Promise.all(Array.from({ length: 40 }, (_, i) => client.writeMessage({ streamName: `${category}-${i}`, type: 'Queued' })));
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 40 * 50, `40 queued writes took ${elapsedMs.toFixed(0)} ms`);
    assert.equal(client.poolStats().waiting, 0);
  });

  test('more concurrent transactions than the pool holds wait their turn and all commit', async () => {
    const { client, applicationName } = await open({ maxPoolSize: 2, connectTimeoutMs: 10_000 });
    const category = randomCategory();
    const positions = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        client.transaction(async (tx) => {
          await tx.streamVersion(`${category}-${i % 3}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
          return tx.writeMessage({ streamName: `${category}-${i % 3}`, type: 'Turn' });
        }),
      ),
    );
    assert.deepEqual([...positions].sort(), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    assert.deepEqual(client.poolStats().waiting, 0);
    assert.ok(client.poolStats().total <= 2);
    assert.ok((await sessionStates(applicationName)).every((state) => state === 'idle'));
  });

  test('a statement inside a transaction that exceeds statementTimeoutMs fails in time, and the transaction writes nothing', async () => {
    const { client } = await open({ statementTimeoutMs: 250 });
    const category = randomCategory();
    const lock = await holdCategoryLock(database.url, category);
    const { ms, error } = await timed(
      client.transaction(async (tx) => {
        await tx.writeMessage({ streamName: `${category}:other-1`, type: 'First' });
        await tx.writeMessage({ streamName: `${category}-1`, type: 'Blocked' });
      }),
    );
    await lock.release();
    assert.ok(error instanceof StatementTimeoutError, String(error));
    assert.ok(ms < 2000, `failed after ${Math.round(ms)} ms`);
    assert.equal(await client.streamVersion(`${category}:other-1`), -1);
  });

  test('an abort while the pool is full cancels the running statement at once', async () => {
    const { client, applicationName } = await open({ maxPoolSize: 1, connectTimeoutMs: 10_000 });
    const category = randomCategory();
    const lock = await holdCategoryLock(database.url, category);
    const controller = new AbortController();
    const writing = client.writeMessage({ streamName: `${category}-1`, type: 'Abandoned' }, { signal: controller.signal });
    await untilBlocked(applicationName);
    // Should the abort not cancel the write, releasing the lock lets the test fail rather than hang.
    const fallback = setTimeout(() => void lock.release(), 3000);
    controller.abort();
    const { ms, error } = await timed(writing);
    clearTimeout(fallback);
    if (ms < 3000) await lock.release();
    assert.ok(error instanceof AbortError, String(error));
    assert.ok(ms < 2000, `the abort took ${Math.round(ms)} ms`);
    assert.equal(await client.streamVersion(`${category}-1`), -1, 'nothing was written');
  });

  test('an abort that comes as its statement finishes never cancels the next statement on that connection', async () => {
    const { client, applicationName } = await open({ maxPoolSize: 1, connectTimeoutMs: 10_000 });
    const [first, second] = [randomCategory(), randomCategory()];
    const firstLock = await holdCategoryLock(database.url, first);
    const secondLock = await holdCategoryLock(database.url, second);
    const controller = new AbortController();
    const aborted = client.writeMessage({ streamName: `${first}-1`, type: 'Raced' }, { signal: controller.signal }).then(
      () => 'written',
      (error: unknown) => error,
    );
    await untilBlocked(applicationName);
    // The next caller waits for the only connection, and will block on the second lock.
    const innocent = client.writeMessage({ streamName: `${second}-1`, type: 'Innocent' });
    // The write can finish before the cancel reaches the server.
    await firstLock.release();
    controller.abort();
    await aborted;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await secondLock.release();
    assert.equal(await innocent, 0, 'the next statement was not cancelled');
  });
});

describe('a network that fails under an open client', () => {
  let database: TestDatabase;
  let proxy: FaultProxy;
  before(async () => {
    database = await createDatabase();
    await postgresClient({}, database);
    const target = new URL(database.url);
    proxy = await startFaultProxy(target.hostname, Number(target.port || 5432));
    onFileEnd(() => proxy.close());
  });

  async function viaProxy(config: ConnectConfig): Promise<MessageDbClient> {
    const url = new URL(database.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const client = await MessageDbClient.connect({ ...config, connectionString: url.toString() });
    onFileEnd(() => client.close());
    return client;
  }

  test('a server gone away: calls fail with ConnectionError once the retries are spent, then work when it is back', async () => {
    const retry = { maxAttempts: 4, initialDelayMs: 50, maxDelayMs: 200 };
    const client = await viaProxy({ retry, connectTimeoutMs: 1000 });
    const streamName = `${randomCategory()}-1`;
    await client.writeMessage({ streamName, type: 'Before' });
    proxy.down();
    const write = await timed(client.writeMessage({ streamName, type: 'During' }));
    const read = await timed(client.getStreamMessages(streamName));
    proxy.up();
    for (const { ms, error } of [write, read]) {
      assert.ok(error instanceof ConnectionError, String(error));
      // Three backoff waits of at most 50, 100 and 200 ms, and four refused connections.
      assert.ok(ms < 2000, `failed after ${Math.round(ms)} ms`);
      assert.doesNotMatch(String(error), new RegExp(new URL(database.url).password || 'no-password-set'));
    }
    assert.equal(await client.writeMessage({ streamName, type: 'After' }), 1, 'the write that failed was not stored');
    assert.equal(client.poolStats().waiting, 0);
  });

  test('a server turned into a black hole: calls fail with a typed error within statementTimeoutMs + connectTimeoutMs, then work again', async () => {
    const statementTimeoutMs = 300;
    const connectTimeoutMs = 500;
    const client = await viaProxy({ statementTimeoutMs, connectTimeoutMs, retry: { maxAttempts: 2, initialDelayMs: 10 } });
    const streamName = `${randomCategory()}-1`;
    await client.writeMessage({ streamName, type: 'Before' });
    proxy.blackHole();
    const { ms, error } = await timed(client.getStreamMessages(streamName));
    proxy.up();
    assert.ok(isConnectionError(error) || isPoolTimeoutError(error), `got ${String(error)}`);
    // One read timing out, then one new connection timing out.
    assert.ok(ms < statementTimeoutMs + 2 * connectTimeoutMs + 1000, `failed after ${Math.round(ms)} ms`);
    assert.equal((await client.getStreamMessages(streamName)).length, 1, 'the client works again');
    assert.equal(client.poolStats().waiting, 0);
  });
});
