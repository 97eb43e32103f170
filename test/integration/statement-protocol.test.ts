/**
 * How the postgres engine sends statements (engine/postgres.ts, StatementQuery): Bind / Execute /
 * Sync with no Describe, so the server never sends a row description for them, and rows decoded by
 * position. Checked on the wire through a TCP proxy that reads the server's messages, and with
 * prepared statements turned off (every statement parsed unnamed each time, the setting for
 * PgBouncer in transaction mode), where every operation must behave the same.
 */
import assert from 'node:assert/strict';
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

  test('statements are bound and executed without Describe: the server sends no row description', async () => {
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
    // ...and no statement was described: no RowDescription ('T'), no NoData ('n').
    assert.equal(messages.count('T'), 0, `row descriptions: ${messages.count('T')}`);
    assert.equal(messages.count('n'), 0);
  });

  test('with preparedStatements: false every operation gives the same results, errors included', async () => {
    const client = await postgresClient({ preparedStatements: false }, database);
    const category = randomCategory('unnamed');
    assert.deepEqual(await exercise(client, category), expected(category, version));
  });
});
