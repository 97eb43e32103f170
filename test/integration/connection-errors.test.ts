/**
 * Opening a connection on a real server: a connection string's (or PGOPTIONS') startup options are
 * merged with the client's instead of replacing them; refused credentials, a missing database and
 * SSL asked of a server without it are typed errors naming the redacted target, and not retried;
 * a write cut off by a lost connection says it may have committed and carries its message ids.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { AuthenticationError, ConnectionError, DatabaseMissingError, InvalidArgumentError, MessageDbClient, isUndecodableValueError } from '../../src/index.ts';
import {
  adminQuery,
  createDatabase,
  onFileEnd,
  postgresClient,
  randomCategory,
  randomStreamName,
  testServerUrl,
  type TestDatabase,
} from '../support/databases.ts';
import { startRestartableServer } from '../support/restartable-server.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { freePort } from '../support/test-server.ts';

/** `url` with `parameter` added to its query. */
function withParameter(url: string, parameter: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${parameter}`;
}

/** `url` with an `options` parameter (encoded as a caller would). */
function withOptions(url: string, options: string): string {
  return withParameter(url, `options=${encodeURIComponent(options)}`);
}

/** `url` with its user, password or database replaced. */
function changed(url: string, change: { user?: string; password?: string; database?: string; port?: number }): string {
  const next = new URL(url);
  if (change.user !== undefined) next.username = change.user;
  if (change.password !== undefined) next.password = change.password;
  if (change.database !== undefined) next.pathname = `/${change.database}`;
  if (change.port !== undefined) next.port = String(change.port);
  return next.toString();
}

/** True when the read with `condition` finds the stream's message: a server setting seen from the client's own session. */
function holds(client: MessageDbClient, streamName: string, condition: string): Promise<boolean> {
  return client.getStreamMessages(streamName, { condition }).then((messages) => messages.length === 1);
}

describe('startup options from the connection string or PGOPTIONS', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
    await postgresClient({}, database);
  });

  test("a connection string's options keep search_path and ISO dates, and the user's setting is in effect", async () => {
    const client = await MessageDbClient.connect({ connectionString: withOptions(database.url, '-c statement_timeout=5000'), allowCondition: true });
    onFileEnd(() => client.close());
    const streamName = randomStreamName();
    const writtenAfter = Date.now();
    await client.writeMessage({ streamName, type: 'Opened' });
    const [message] = await client.getStreamMessages(streamName);
    const time = message?.time.getTime() ?? Number.NaN;
    // The server's clock is this machine's: a minute either way is plenty.
    assert.ok(Math.abs(time - writtenAfter) < 60_000, `time ${String(message?.time)} is close to now`);
    assert.ok(await holds(client, streamName, "current_setting('statement_timeout') = '5s'"), "the user's statement_timeout");
    assert.ok(await holds(client, streamName, "current_setting('DateStyle') LIKE 'ISO,%'"), 'DateStyle ISO');
    assert.ok(await holds(client, streamName, "current_schemas(false) = ARRAY['message_store', 'public']::name[]"), 'search_path');
  });

  test("a user's search_path gets message_store first, before the user's own schemas", async () => {
    const schema = `mdbschema_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE SCHEMA ${schema}`, [], database.url);
    // Escaped as the server splits options: a backslash before each space.
    const options = `-c search_path=${schema},public,message_store -c DateStyle=ISO,\\ DMY`;
    const client = await MessageDbClient.connect({ connectionString: withOptions(database.url, options), allowCondition: true });
    onFileEnd(() => client.close());
    const streamName = randomStreamName();
    await client.writeMessage({ streamName, type: 'Opened' });
    assert.ok(await holds(client, streamName, `current_schemas(false) = ARRAY['message_store', '${schema}', 'public']::name[]`), 'search_path');
    assert.ok(await holds(client, streamName, "current_setting('DateStyle') = 'ISO, DMY'"), "the user's date order");
    assert.ok(!Number.isNaN((await client.getStreamMessages(streamName))[0]?.time.getTime()));
  });

  test('PGOPTIONS is merged the same way when the connection string has no options', async () => {
    const saved = process.env.PGOPTIONS;
    process.env.PGOPTIONS = '-c statement_timeout=4000';
    try {
      const client = await MessageDbClient.connect({ connectionString: database.url, allowCondition: true });
      onFileEnd(() => client.close());
      const streamName = randomStreamName();
      await client.writeMessage({ streamName, type: 'Opened' });
      assert.ok(await holds(client, streamName, "current_setting('statement_timeout') = '4s'"), 'PGOPTIONS statement_timeout');
      assert.ok(await holds(client, streamName, "current_setting('DateStyle') LIKE 'ISO,%'"), 'DateStyle ISO');
    } finally {
      if (saved === undefined) delete process.env.PGOPTIONS;
      else process.env.PGOPTIONS = saved;
    }
  });

  test('a DateStyle that is not ISO is refused before anything connects, naming where it was set', async () => {
    // Nothing listens on this port: a connection attempt would fail with ConnectionError instead.
    const nowhere = changed(database.url, { port: await freePort() });
    const refused = (argument: string) => (error: unknown) =>
      error instanceof InvalidArgumentError && error.argument === argument && error.message.includes('DateStyle must be ISO');
    await assert.rejects(MessageDbClient.connect(withOptions(nowhere, '-c DateStyle=SQL,DMY')), refused('connectionString'));
    await assert.rejects(MessageDbClient.connect(withOptions(nowhere, '--datestyle=German')), refused('connectionString'));
    await assert.rejects(
      MessageDbClient.connect({ connectionString: nowhere, readReplicas: [withOptions(nowhere, '-cDateStyle=Postgres')] }),
      refused('readReplicas[0]'),
    );
    const saved = process.env.PGOPTIONS;
    process.env.PGOPTIONS = '-c DateStyle=SQL';
    try {
      await assert.rejects(MessageDbClient.connect(nowhere), refused('PGOPTIONS'));
    } finally {
      if (saved === undefined) delete process.env.PGOPTIONS;
      else process.env.PGOPTIONS = saved;
    }
  });

  test('a time the client cannot read is a typed error, not an Invalid Date (a session whose DateStyle was changed)', async () => {
    const client = await MessageDbClient.connect({ connectionString: database.url, allowCondition: true, maxPoolSize: 1 });
    onFileEnd(() => client.close());
    const streamName = randomStreamName();
    await client.writeMessage({ streamName, type: 'Opened' });
    // set_config runs inside the server's query and changes the session, as a `SET DateStyle` would.
    const changing = client.getStreamMessages(streamName, { condition: "set_config('DateStyle', 'SQL', false) IS NOT NULL" });
    await assert.rejects(
      changing.then(() => client.getStreamMessages(streamName)),
      (error: unknown) => isUndecodableValueError(error) && error.column === 'time',
    );
  });
});

describe('connect() refusals', () => {
  const secret = `pw-${randomBytes(9).toString('hex')}`;
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
  });

  /** The error connect() rejects with; it must name no password anywhere. */
  async function refusal(connectionString: string, config: { connectTimeoutMs?: number } = {}): Promise<unknown> {
    const error = await MessageDbClient.connect({ connectionString, ...config }).then(
      async (client) => {
        await client.close();
        assert.fail('connect() succeeded');
      },
      (e: unknown) => e,
    );
    const shown = [String(error), inspect(error, { depth: Infinity }), (error as Error).stack ?? ''].join('\n');
    assert.ok(!shown.includes(secret), `the password shows:\n${shown}`);
    return error;
  }

  test('a role the server refuses (no login) is an AuthenticationError with the redacted target', async () => {
    const role = `mdbnologin_${randomBytes(4).toString('hex')}`;
    // With the password it is given, so a server that checks passwords refuses the login itself, not the password.
    await adminQuery(`CREATE ROLE ${role} NOLOGIN PASSWORD '${secret}'`);
    onFileEnd(() => adminQuery(`DROP ROLE IF EXISTS ${role}`));
    const error = await refusal(changed(database.url, { user: role, password: secret }));
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.target, `${changed(database.url, { user: role, password: '***' })}`);
    assert.match(error.message, new RegExp(`${role}.*not permitted to log in`));
  });

  test('a wrong password (28P01) is an AuthenticationError with the redacted target', async () => {
    // The shared server may trust every local connection; a server of the test's own checks passwords.
    let url = testServerUrl();
    let server: Awaited<ReturnType<typeof startRestartableServer>> | undefined;
    if (new URL(url).password === '') {
      server = await startRestartableServer();
      url = server.url();
    }
    try {
      const error = await refusal(changed(url, { password: secret }));
      assert.ok(error instanceof AuthenticationError, String(error));
      assert.equal((error.cause as { code?: string }).code, '28P01');
      assert.equal(error.target, changed(url, { password: '***' }));
      assert.match(error.message, /password authentication failed/);
    } finally {
      await server?.remove();
    }
  });

  test('a database that does not exist is a DatabaseMissingError, after one attempt', async () => {
    const server = new URL(testServerUrl());
    const failures: number[] = [];
    // The server's error response carries the SQLSTATE as a field `C3D000\0`: one per connection attempt.
    const proxy = await startTcpProxy(server.hostname, Number(server.port || 5432), {
      onServerBytes: (chunk) => chunk.includes('C3D000\0') && failures.push(1),
    });
    after(() => proxy.close());
    const missing = `mdbmissing_${randomBytes(4).toString('hex')}`;
    // The server's own password, where it checks one: the database is what is missing, not the login.
    const password = server.password === '' ? secret : decodeURIComponent(server.password);
    const url = changed(testServerUrl(), { database: missing, password, port: proxy.port });
    const error = await refusal(url);
    assert.ok(!String(error).includes(password) && !inspect(error, { depth: Infinity }).includes(password), 'the password shows');
    assert.ok(error instanceof DatabaseMissingError, String(error));
    assert.equal(error.target, changed(url, { password: '***' }));
    assert.ok(error.message.includes(`/${missing}`));
    assert.equal(failures.length, 1, 'connected once, no retries');
  });

  test('sslmode=require against a server without SSL is a ConnectionError naming the target, at once', async () => {
    const [ssl] = await adminQuery<{ ssl: string }>('SHOW ssl');
    assert.equal(ssl?.ssl, 'off', 'the test server has SSL off');
    const url = withParameter(changed(database.url, { password: secret }), 'sslmode=require');
    const started = Date.now();
    const error = await refusal(url, { connectTimeoutMs: 30_000 });
    assert.ok(error instanceof ConnectionError, String(error));
    assert.match(error.message, /does not support SSL connections/);
    assert.ok(error.message.includes(changed(url, { password: '***' })), error.message);
    assert.ok(Date.now() - started < 10_000, 'settled long before connectTimeoutMs');
  });
});

describe('a write cut off by a lost connection', () => {
  test('says it may have committed and carries its message ids, with which it is written again exactly once', async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    const target = new URL(database.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    onFileEnd(() => proxy.close());
    const client = await MessageDbClient.connect({ connectionString: changed(database.url, { port: proxy.port }), retry: { maxAttempts: 1 } });
    onFileEnd(() => client.close());
    const category = randomCategory();
    await client.writeMessage({ streamName: `${category}-0`, type: 'First' });

    proxy.cutAfterNextReply();
    const single = await client.writeMessage({ streamName: `${category}-1`, type: 'Single' }).then(
      () => assert.fail('the write succeeded'),
      (e: unknown) => e,
    );
    assert.ok(single instanceof ConnectionError, String(single));
    assert.match(single.message, /may have committed/);
    assert.equal(single.messageIds?.length, 1);
    assert.match(single.stack ?? '', /connection-errors\.test\.ts/, "the stack leads to the caller's write");

    const batch = [0, 1, 2].map((n) => ({ streamName: `${category}-2`, type: 'Batch', data: { n } }));
    proxy.cutAfterNextReply();
    const cut = await client.writeMessages(batch).then(
      () => assert.fail('the write succeeded'),
      (e: unknown) => e,
    );
    assert.ok(cut instanceof ConnectionError, String(cut));
    assert.equal(cut.messageIds?.length, 3);

    // The server did commit both: writing again with the ids finds them instead of storing copies.
    assert.deepEqual(await client.writeMessage({ id: single.messageIds?.[0], streamName: `${category}-1`, type: 'Single' }), 0);
    assert.deepEqual(await client.writeMessages(batch.map((m, i) => ({ ...m, id: cut.messageIds?.[i] }))), [0, 1, 2]);
    const stored = await client.getCategoryMessages(category);
    assert.deepEqual(stored.map((m) => m.id).slice(1), [single.messageIds?.[0], ...(cut.messageIds ?? [])]);
  });
});
