/**
 * Connection faults, timeouts and aborts on a real PostgreSQL server: reads and writes survive
 * lost connections, a write whose acknowledgement was lost is not written twice, and every
 * timeout ends in a typed error within its configured time.
 */
import assert from 'node:assert/strict';

import { createServer } from 'node:net';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { AbortError, ConnectionError, MessageDbClient, PoolTimeoutError, StatementTimeoutError, recordPosition } from '../../src/index.ts';
import { createDatabase, onFileEnd, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { holdCategoryLock } from '../support/category-lock.ts';
import { proxyFor, type TcpProxy } from '../support/tcp-proxy.ts';
import { freePort } from '../support/test-server.ts';

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('connection faults', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let client: MessageDbClient;

  before(async () => {
    database = await createDatabase();
    await postgresClient({}, database);
    const proxied = await proxyFor(database.url);
    proxy = proxied.proxy;
    client = await MessageDbClient.connect({ connectionString: proxied.url, retry: { initialDelayMs: 10 } });
    onFileEnd(() => client.close());
  });

  test('a read after every connection was cut is retried on a new connection', async () => {
    const category = randomCategory();
    await client.writeMessage({ streamName: `${category}-1`, type: 'A' });
    proxy.cutAll();
    const messages = await client.getCategoryMessages(category);
    assert.equal(messages.length, 1);
  });

  test('a read cut off after part of its rows arrived is retried and returns the whole batch once', async () => {
    const category = randomCategory();
    await client.writeMessages(Array.from({ length: 500 }, (_, n) => ({ streamName: `${category}-${n % 7}`, type: 'A', data: { n } })));
    // About 100 of the 500 rows (200 bytes each) reach the client, and are decoded, before the cut.
    proxy.cutPartwayThroughNextReply(20_000);
    const messages = await client.getCategoryMessages(category);
    assert.deepEqual(
      messages.map((m) => (m.data as { n: number }).n),
      Array.from({ length: 500 }, (_, n) => n),
    );
  });

  test('a connection lost inside a transaction is a ConnectionError that says so once', async () => {
    const stream = `${randomCategory()}-1`;
    const error = await client
      .transaction(async (tx) => {
        await tx.writeMessage({ streamName: stream, type: 'First' });
        proxy.cutAll();
        await tx.writeMessage({ streamName: stream, type: 'Second' });
      })
      .then(
        () => assert.fail('the transaction committed'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.message.split('Lost or could not open a database connection').length - 1, 1, error.message);
    assert.equal(await client.streamVersion(stream), -1);
  });

  test('a write whose acknowledgement is lost is retried and stored exactly once', async () => {
    const stream = `${randomCategory()}-1`;
    await client.writeMessage({ streamName: stream, type: 'First' });
    proxy.cutAfterNextReply();
    const position = await client.writeMessage({ streamName: stream, type: 'Second', data: { n: 2 } });
    assert.equal(position, 1);
    const stored = await client.getStreamMessages(stream);
    assert.deepEqual(
      stored.map((m) => m.type),
      ['First', 'Second'],
    );
  });

  test('a write with an expected version whose acknowledgement is lost returns its position, not a version error', async () => {
    const stream = `${randomCategory()}-1`;
    proxy.cutAfterNextReply();
    const position = await client.writeMessage({ streamName: stream, type: 'Opened', expectedVersion: -1 });
    assert.equal(position, 0);
    assert.equal(await client.streamVersion(stream), 0);
  });

  test('a position record at an expected version whose acknowledgement is lost returns its position, not a conflict', async () => {
    const stream = `${randomCategory()}:position-worker`;
    assert.equal(await recordPosition(client, stream, 10), 0);
    proxy.cutAfterNextReply();
    assert.equal(await recordPosition(client, stream, 20, { expectedVersion: 0 }), 1);
    const records = await client.getStreamMessages<{ position: number }>(stream);
    assert.deepEqual(
      records.map((record) => record.data.position),
      [10, 20],
      'stored once',
    );
  });

  test('a batch whose acknowledgement is lost is stored exactly once', async () => {
    const category = randomCategory();
    const batch = Array.from({ length: 20 }, (_, i) => ({ streamName: `${category}-${i % 4}`, type: 'M', data: { i } }));
    proxy.cutAfterNextReply();
    const positions = await client.writeMessages(batch);
    assert.deepEqual(
      positions,
      batch.map((_, i) => Math.floor(i / 4)),
    );
    assert.equal((await client.getCategoryMessages(category)).length, 20);
  });

  test('a write cut off before it committed is retried and lands once', async () => {
    const category = randomCategory();
    const lock = await holdCategoryLock(database.url, category);
    const writing = client.writeMessage({ streamName: `${category}-1`, type: 'Blocked' });
    await waitUntil(async () => (await lockWaiters(database.url)) > 0, 'the write to wait on the category lock');
    proxy.cutAll();
    await lock.release();
    assert.equal(await writing, 0);
    assert.equal((await client.getCategoryMessages(category)).length, 1);
  });

  test('terminated backends are replaced and the next call succeeds', async () => {
    const named = await MessageDbClient.connect({ connectionString: database.url, applicationName: 'messagedb-fault-test', retry: { initialDelayMs: 10 } });
    onFileEnd(() => named.close());
    const category = randomCategory();
    await Promise.all([0, 1, 2].map((i) => named.writeMessage({ streamName: `${category}-${i}`, type: 'A' })));
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const { rows } = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'messagedb-fault-test'`);
    await admin.end();
    assert.ok(rows.length >= 1);
    assert.equal((await named.getCategoryMessages(category)).length, 3);
    await named.writeMessage({ streamName: `${category}-3`, type: 'B' });
    assert.equal((await named.categoryHead(category)) > 0, true);
  });
});

async function lockWaiters(url: string): Promise<number> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
    return rows[0].n as number;
  } finally {
    await admin.end();
  }
}

describe('timeouts and aborts', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
    await postgresClient({}, database);
  });

  test('a statement longer than statementTimeoutMs fails with StatementTimeoutError and writes nothing', async () => {
    const client = await MessageDbClient.connect({ connectionString: database.url, statementTimeoutMs: 200 });
    onFileEnd(() => client.close());
    const category = randomCategory();
    const lock = await holdCategoryLock(database.url, category);
    const started = Date.now();
    await assert.rejects(client.writeMessage({ streamName: `${category}-1`, type: 'Slow' }), StatementTimeoutError);
    assert.ok(Date.now() - started < 2000, 'failed within the timeout');
    await lock.release();
    assert.equal(await client.streamVersion(`${category}-1`), -1);
  });

  test('more concurrent transactions than the pool holds: the extra one fails with PoolTimeoutError, then the pool recovers', async () => {
    const client = await MessageDbClient.connect({ connectionString: database.url, maxPoolSize: 2, connectTimeoutMs: 300 });
    onFileEnd(() => client.close());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holders = [0, 1].map(() => client.transaction(() => held));
    await waitUntil(async () => client.poolStats().total === 2 && client.poolStats().idle === 0, 'two busy connections');
    const started = Date.now();
    await assert.rejects(client.getCategoryMessages(randomCategory()), PoolTimeoutError);
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 2000, `gave up after ${waited} ms`);
    release();
    await Promise.all(holders);
    assert.deepEqual(await client.getCategoryMessages(randomCategory()), []);
    assert.equal(client.poolStats().waiting, 0);
  });

  test('an abort while a write waits cancels it server-side and nothing is written', async () => {
    const client = await MessageDbClient.connect({ connectionString: database.url });
    onFileEnd(() => client.close());
    const category = randomCategory();
    const lock = await holdCategoryLock(database.url, category);
    const controller = new AbortController();
    const writing = client.writeMessage({ streamName: `${category}-1`, type: 'Abandoned' }, { signal: controller.signal });
    await waitUntil(async () => (await lockWaiters(database.url)) > 0, 'the write to wait');
    controller.abort();
    await assert.rejects(writing, AbortError);
    await lock.release();
    assert.equal(await client.streamVersion(`${category}-1`), -1);
  });

  test('an unreachable server fails connect() with ConnectionError without leaking the password', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await MessageDbClient.connect({ connectionString: `postgres://user:s3cret-pw@127.0.0.1:${port}/db`, connectTimeoutMs: 1000 }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConnectionError, String(error));
    assert.ok(Date.now() - started < 3000);
    assert.doesNotMatch(String(error) + JSON.stringify(error), /s3cret-pw/);
  });

  test('a server that accepts but never answers fails connect() with ConnectionError within connectTimeoutMs', async () => {
    const accepted = new Set<import('node:net').Socket>();
    const silent = createServer((socket) => accepted.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onFileEnd(async () => {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const { port } = silent.address() as { port: number };
    const started = Date.now();
    const error = await MessageDbClient.connect({ connectionString: `postgres://u:pw-xyz@127.0.0.1:${port}/db`, connectTimeoutMs: 400 }).catch(
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    assert.ok(error instanceof ConnectionError, String(error));
    assert.ok(elapsed >= 350 && elapsed < 2500, `failed after ${elapsed} ms`);
  });

  test('toString and inspect never show the password', async () => {
    const url = new URL(database.url);
    url.password = url.password || 'unused-password';
    const client = await MessageDbClient.connect(url.toString());
    onFileEnd(() => client.close());
    const { inspect } = await import('node:util');
    assert.doesNotMatch(String(client) + inspect(client, { depth: 5 }), new RegExp(url.password));
    assert.match(String(client), /\*\*\*/);
  });
});
