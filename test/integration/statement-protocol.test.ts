/**
 * How the postgres engine sends statements (engine/postgres-connection.ts, on postgres.js): each
 * statement is parsed once per connection, then only bound and executed (no Parse, no Describe, so
 * the server sends no row description), and concurrent statements on one connection are pipelined
 * rather than sent one round trip after another. Checked on the wire through TCP proxies that read
 * the server's messages or delay every byte, and with prepared statements turned off (every
 * statement parsed unnamed each time, the setting for PgBouncer in transaction mode), where every
 * operation must behave the same.
 */
import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { before, describe, test } from 'node:test';
import { ExpectedVersionError, MessageDbClient } from '../../src/index.ts';
import { createDatabase, onFileEnd, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

/** Counts the server's messages by type byte, reading the framed backend stream across chunks. */
class BackendMessages {
  readonly counts = new Map<string, number>();
  #pending: Buffer = Buffer.alloc(0);

  receive(chunk: Buffer): void {
    let buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (buffer.length >= 5) {
      const length = buffer.readInt32BE(1);
      if (buffer.length < length + 1) break;
      const type = String.fromCharCode(buffer[0] as number);
      this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
      buffer = buffer.subarray(length + 1);
    }
    this.#pending = buffer;
  }

  count(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  reset(): void {
    this.counts.clear();
  }
}

/** A write, a batch, reads of every kind and a version check; returns what they gave back. */
async function exercise(client: MessageDbClient, category: string): Promise<unknown[]> {
  const stream = `${category}-1`;
  const first = await client.writeMessage({ streamName: stream, type: 'Opened', data: { n: 0 }, metadata: { correlationStreamName: 'c-1' } });
  const batch = await client.writeMessages(
    [1, 2].map((n) => ({ streamName: stream, type: 'Deposited', data: { n } })),
    { expectedVersion: first },
  );
  const conflict = await client.writeMessage({ streamName: stream, type: 'Late', expectedVersion: 0 }).catch((error: unknown) => error);
  assert.ok(conflict instanceof ExpectedVersionError, `got ${String(conflict)}`);
  const inTransaction = await client.transaction(async (tx) => {
    await tx.writeMessage({ streamName: `${category}-2`, type: 'Opened' });
    return (await tx.getStreamMessages(`${category}-2`)).length;
  });
  return [
    first,
    batch,
    conflict.streamVersion,
    inTransaction,
    (await client.getStreamMessages(stream)).map((m) => [m.type, m.position, m.data, m.metadata]),
    (await client.getCategoryMessages(category)).map((m) => [m.streamName, m.position]),
    (await client.getLastStreamMessage(stream))?.data,
    await client.streamVersion(stream),
    await client.streamVersion(`${category}-none`),
    await client.messageStoreVersion(),
  ];
}

/** What `exercise` gives back on any correct client. */
const expected = (category: string, version: string): unknown[] => [
  0,
  [1, 2],
  2,
  1,
  [
    ['Opened', 0, { n: 0 }, { correlationStreamName: 'c-1' }],
    ['Deposited', 1, { n: 1 }, null],
    ['Deposited', 2, { n: 2 }, null],
  ],
  [
    [`${category}-1`, 0],
    [`${category}-1`, 1],
    [`${category}-1`, 2],
    [`${category}-2`, 0],
  ],
  { n: 2 },
  2,
  -1,
  version,
];

describe('statements on the wire (postgres engine)', () => {
  let database: TestDatabase;
  let version: string;

  before(async () => {
    database = await createDatabase();
    version = await (await postgresClient({}, database)).messageStoreVersion();
  });

  test('statements are parsed once per connection, then bound and executed without Describe: no Parse, no row description', async () => {
    const messages = new BackendMessages();
    const target = new URL(database.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432), { onServerBytes: (chunk) => messages.receive(chunk) });
    onFileEnd(() => proxy.close());
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const client = await MessageDbClient.connect({ connectionString: viaProxy.toString() });
    onFileEnd(() => client.close());
    // Connections opened and statements parsed; from here on only executions are counted.
    await exercise(client, randomCategory('warm'));
    messages.reset();

    const category = randomCategory('wire');
    assert.deepEqual(await exercise(client, category), expected(category, version));
    // Rows came back ('D'), every statement was bound ('2') and completed ('C')...
    assert.ok(messages.count('D') >= 10, `data rows: ${messages.count('D')}`);
    assert.ok(messages.count('2') >= 10, `bind completions: ${messages.count('2')}`);
    // ...no statement was parsed again: no ParseComplete ('1')...
    assert.equal(messages.count('1'), 0, `parse completions: ${messages.count('1')}`);
    // ...and none was described: no RowDescription ('T'), no NoData ('n').
    assert.equal(messages.count('T'), 0, `row descriptions: ${messages.count('T')}`);
    assert.equal(messages.count('n'), 0);
  });

  test('with preparedStatements: false every operation gives the same results, errors included', async () => {
    const client = await postgresClient({ preparedStatements: false }, database);
    const category = randomCategory('unnamed');
    assert.deepEqual(await exercise(client, category), expected(category, version));
  });
});

/** A TCP proxy that holds every chunk, each way, for `delayMs` before passing it on: a distant server. */
async function startDelayingProxy(target: URL, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const pass = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => setTimeout(() => to.write(chunk), delayMs));
    from.on('close', () => setTimeout(() => to.destroy(), delayMs));
    from.on('error', () => {});
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    sockets.add(client).add(upstream);
    pass(client, upstream);
    pass(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('concurrent statements on one connection (postgres engine)', () => {
  const delayMs = 50;
  const roundTripMs = 2 * delayMs;

  /** 8 concurrent single writes through one connection to a server `delayMs` away each way, once warm: how many round trips they took. */
  async function concurrentWrites(config: { pipelining?: boolean }): Promise<number> {
    const database = await createDatabase();
    await postgresClient({}, database);
    const proxy = await startDelayingProxy(new URL(database.url), delayMs);
    onFileEnd(() => proxy.close());
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const client = await MessageDbClient.connect({ connectionString: viaProxy.toString(), maxPoolSize: 1, ...config });
    onFileEnd(() => client.close());
    const category = randomCategory('pipelined');
    // The connection is open and the write statement parsed: from here on, a write is one round trip.
    await client.writeMessage({ streamName: `${category}-0`, type: 'Warm' });
    const started = performance.now();
    const positions = await Promise.all(Array.from({ length: 8 }, (_, n) => client.writeMessage({ streamName: `${category}-${n + 1}`, type: 'Concurrent' })));
    const elapsedMs = performance.now() - started;
    assert.deepEqual(positions, [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(client.poolStats().total, 1);
    assert.equal((await client.getCategoryMessages(category)).length, 9);
    return elapsedMs / roundTripMs;
  }

  test('with pipelining, 8 concurrent single writes through one connection share round trips', async () => {
    const roundTrips = await concurrentWrites({ pipelining: true });
    // One after another they take 8 round trips (800 ms); pipelined, about one.
    assert.ok(roundTrips < 4, `8 writes took ${roundTrips.toFixed(1)} round trips`);
  });

  test('without pipelining, each of them waits for the connection: 8 round trips', async () => {
    const roundTrips = await concurrentWrites({});
    assert.ok(roundTrips >= 7.5, `8 writes took ${roundTrips.toFixed(1)} round trips`);
  });
});
