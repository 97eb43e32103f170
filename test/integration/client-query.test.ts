/**
 * client.query({ readOnly }): the server refuses writes in it, and a lost connection is retried,
 * while a plain client.query is never retried (its statement may have run).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { MessageDbClient, isConnectionError } from '../../src/index.ts';
import { createDatabase, engines, onFileEnd, postgresClient, randomStreamName, type TestDatabase } from '../support/databases.ts';
import { proxyFor, type TcpProxy } from '../support/tcp-proxy.ts';

for (const engine of engines) {
  describe(`client.query readOnly on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test('reads, and the server refuses a write in it: nothing is written', async () => {
      const stream = randomStreamName();
      await client.writeMessage({ streamName: stream, type: 'Opened' });
      const count = 'SELECT count(*) AS n FROM message_store.messages WHERE stream_name = $1';
      assert.deepEqual(await client.query(count, [stream], { readOnly: true }), [{ n: '1' }]);
      await assert.rejects(
        client.query("SELECT message_store.write_message(gen_random_uuid()::varchar, $1, 'Sneaked', '{}')", [stream], { readOnly: true }),
        /read-only transaction/,
      );
      assert.deepEqual(await client.query(count, [stream]), [{ n: '1' }]);
    });
  });
}

describe('client.query on a lost connection', () => {
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
    await client.query('SELECT 1');
  });

  test('readOnly: retried on a new connection, and answers', async () => {
    proxy.cutAfterNextReply();
    assert.deepEqual(await client.query('SELECT $1::int + 1 AS two', [1], { readOnly: true }), [{ two: '2' }]);
  });

  test('without readOnly: fails with ConnectionError, not retried', async () => {
    proxy.cutAfterNextReply();
    await assert.rejects(client.query('SELECT 1 AS one'), (error: unknown) => isConnectionError(error));
    assert.deepEqual(await client.query('SELECT 1 AS one'), [{ one: '1' }]);
  });
});
