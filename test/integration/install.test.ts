/**
 * The installer on a real server: concurrent installers, an update from a 1.2-shaped install, and
 * roles that are not superusers (a restricted role that inherits `message_store`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import pg from 'pg';
import { MessageDbClient, SchemaMissingError } from '../../src/index.ts';
import { adminQuery, createDatabase, onFileEnd, postgresClient, randomStreamName } from '../support/databases.ts';

async function withClient(url: string): Promise<MessageDbClient> {
  const client = await MessageDbClient.connect(url);
  onFileEnd(() => client.close());
  return client;
}

/** A login role that inherits message_store's privileges (and nothing else), with a password. */
async function restrictedRole(): Promise<{ name: string; password: string }> {
  const name = `mdbapp_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(9).toString('hex');
  await adminQuery(`CREATE ROLE ${name} LOGIN PASSWORD '${password}' IN ROLE message_store`);
  onFileEnd(() => adminQuery(`DROP ROLE IF EXISTS ${name}`));
  return { name, password };
}

function as(url: string, role: { name: string; password: string }): string {
  const target = new URL(url);
  target.username = role.name;
  target.password = role.password;
  return target.toString();
}

describe('install on PostgreSQL', () => {
  test('three installers racing on one fresh database all succeed, and exactly one installs', async () => {
    const database = await createDatabase();
    const clients = await Promise.all([0, 1, 2].map(() => withClient(database.url)));
    const results = await Promise.all(clients.map((client) => client.install()));
    assert.deepEqual(results.map((r) => r.action).sort(), ['installed', 'verified', 'verified']);
    assert.equal(await clients[0]!.writeMessage({ streamName: randomStreamName(), type: 'T' }), 0);
  });

  test('an install with the 1.2 one-argument get_last_stream_message is updated to 1.3.0', async () => {
    const database = await createDatabase();
    const client = await postgresClient({}, database);
    const stream = randomStreamName();
    await client.writeMessages([
      { streamName: stream, type: 'A' },
      { streamName: stream, type: 'B' },
    ]);
    const connection = new pg.Client({ connectionString: database.url, options: '-c search_path=message_store,public' });
    await connection.connect();
    // Reshape the install as 1.2 had it: get_last_stream_message(varchar) without the type argument.
    await connection.query(`DROP FUNCTION message_store.get_last_stream_message(varchar, varchar)`);
    await connection.query(`CREATE FUNCTION message_store.get_last_stream_message(stream_name varchar)
      RETURNS SETOF message_store.message AS $$
        SELECT id::varchar, stream_name::varchar, type::varchar, position, global_position, data::varchar, metadata::varchar, time
          FROM message_store.messages WHERE messages.stream_name = $1 ORDER BY position DESC LIMIT 1
      $$ LANGUAGE sql`);
    await connection.end();
    assert.deepEqual(await client.install(), { action: 'updated', version: '1.3.0' });
    assert.equal((await client.getLastStreamMessage(stream, { type: 'A' }))?.position, 0);
    assert.equal((await client.getLastStreamMessage(stream))?.position, 1);
    assert.equal(await client.streamVersion(stream), 1, 'messages kept');
  });

  test('a role that is not superuser verifies an existing install and reads and writes', async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    const role = await restrictedRole();
    const client = await withClient(as(database.url, role));
    assert.deepEqual(await client.install(), { action: 'verified', version: '1.3.0' });
    const stream = randomStreamName();
    await client.writeMessage({ streamName: stream, type: 'T', expectedVersion: -1 });
    assert.equal((await client.getStreamMessages(stream)).length, 1);
  });

  test('the message_store privileges refuse UPDATE and DELETE of messages', async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    const role = await restrictedRole();
    const connection = new pg.Client({ connectionString: as(database.url, role) });
    await connection.connect();
    onFileEnd(() => connection.end());
    await assert.rejects(connection.query('UPDATE message_store.messages SET type = type'), { code: '42501' });
    await assert.rejects(connection.query('DELETE FROM message_store.messages'), { code: '42501' });
  });

  test('a role that is not superuser cannot install into an empty database and is told why', async () => {
    const database = await createDatabase();
    const role = await restrictedRole();
    const client = await withClient(as(database.url, role));
    const error = await client.install().catch((e: unknown) => e);
    assert.ok(error instanceof Error);
    assert.match(String(error), /permission denied|administrator|install/i);
    await assert.rejects(client.writeMessage({ streamName: randomStreamName(), type: 'T' }), SchemaMissingError);
  });
});
