/**
 * The client's pure helpers against the server's own functions, on generated names, and every
 * server error produced for real and translated by fromPostgresError.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import {
  ConditionNotEnabledError,
  DuplicateMessageIdError,
  ExpectedVersionError,
  InvalidArgumentError,
  SchemaMissingError,
  cardinalId,
  category,
  consumerGroupMember,
  hash64,
  id,
  isCategory,
} from '../../src/index.ts';
import { databaseScriptsDir } from '../../src/store/install.ts';
import { fromPostgresError } from '../../src/vocabulary/postgres-error.ts';
import { createDatabase, onFileEnd, postgresClient } from '../support/databases.ts';

const alphabet = ['a', 'B', 'z', '0', '9', '-', '-', '+', '+', ':', '_', ' ', 'é', 'ß', '日', '🚀', '.', '$'];

/** Names built to hit the edges: leading/trailing/double dashes and pluses, unicode, empty ids. */
function generatedNames(count: number): string[] {
  const names = ['', '-', '--', 'a-', '-a', 'a-b-c', 'a-+', 'a-b+c+d', 'cat', 'cat:command-1+x', 'someStream'];
  while (names.length < count) {
    const length = randomInt(1, 16);
    let name = '';
    for (let i = 0; i < length; i++) name += alphabet[randomInt(alphabet.length)];
    names.push(name);
  }
  return names;
}

/** What the server says of each name, as [category, id, cardinal_id, is_category, hash_64 of the name, member of 7]. */
const compareSql = `
  SELECT n, message_store.category(n), message_store.id(n), message_store.cardinal_id(n),
         message_store.is_category(n), message_store.hash_64(n)::text,
         CASE WHEN message_store.cardinal_id(n) IS NULL THEN NULL
              ELSE (@message_store.hash_64(message_store.cardinal_id(n))) % 7 END
    FROM unnest($1::varchar[]) AS n`;

function assertAgrees(rows: unknown[][]): void {
  for (const [name, serverCategory, serverId, serverCardinal, serverIsCategory, serverHash, serverMember] of rows) {
    const n = name as string;
    assert.equal(category(n), serverCategory, `category(${JSON.stringify(n)})`);
    assert.equal(id(n), serverId, `id(${JSON.stringify(n)})`);
    assert.equal(cardinalId(n), serverCardinal, `cardinalId(${JSON.stringify(n)})`);
    assert.equal(isCategory(n), serverIsCategory === true || serverIsCategory === 't', `isCategory(${JSON.stringify(n)})`);
    assert.equal(hash64(n).toString(), serverHash, `hash64(${JSON.stringify(n)})`);
    const member = consumerGroupMember(n, 7);
    assert.equal(member === null ? null : String(member), serverMember === null ? null : String(serverMember), `member(${JSON.stringify(n)})`);
  }
}

describe('stream-name helpers agree with the server functions', () => {
  const names = generatedNames(3000);

  test('on PostgreSQL, for 3000 generated names', async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    const connection = new pg.Client({ connectionString: database.url, options: '-c search_path=message_store,public' });
    await connection.connect();
    onFileEnd(() => connection.end());
    const result = await connection.query({ text: compareSql, values: [names], rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
    assert.equal(result.rows.length, names.length);
    assertAgrees(result.rows);
  });

  test('on PGlite, for 3000 generated names', async () => {
    // The same SQL through PGlite directly, so nothing of ours sits between the server and the check.
    const db = await PGlite.create();
    onFileEnd(() => db.close());
    await db.exec('CREATE SCHEMA message_store; SET search_path TO message_store, public');
    for (const file of ['message-store-version', 'hash-64', 'category', 'is-category', 'id', 'cardinal-id']) {
      await db.exec(await readFile(`${databaseScriptsDir()}/functions/${file}.sql`, 'utf8'));
    }
    const result = await db.query<unknown[]>(compareSql, [names], { rowMode: 'array', parsers: { 20: (v: string) => v, 16: (v: string) => v } });
    assertAgrees(result.rows.map((row) => row.map((v) => (v === 't' ? true : v === 'f' ? false : v))));
  });
});

describe('every server error is translated', () => {
  let connection: pg.Client;
  const serverError = async (sql: string, values: unknown[] = []): Promise<unknown> => {
    try {
      await connection.query(sql, values);
    } catch (error) {
      return fromPostgresError(error);
    }
    assert.fail(`expected ${sql} to fail`);
  };

  before(async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    connection = new pg.Client({ connectionString: database.url, options: '-c search_path=message_store,public' });
    await connection.connect();
    onFileEnd(() => connection.end());
  });

  test('Wrong expected version becomes ExpectedVersionError with its three values', async () => {
    const stream = `errcat${randomBytes(4).toString('hex')}-1`;
    await connection.query(`SELECT write_message(gen_random_uuid()::varchar, $1, 'T', '{}')`, [stream]);
    const error = await serverError(`SELECT write_message(gen_random_uuid()::varchar, $1, 'T', '{}', NULL, 4)`, [stream]);
    assert.ok(error instanceof ExpectedVersionError);
    assert.deepEqual([error.streamName, error.expectedVersion, error.streamVersion], [stream, 4, 0]);
  });

  test('a stream name containing the separator text still parses', async () => {
    const stream = `odd${randomBytes(4).toString('hex')}-x, Stream Version: 9)`;
    const error = await serverError(`SELECT write_message(gen_random_uuid()::varchar, $1, 'T', '{}', NULL, 1)`, [stream]);
    assert.ok(error instanceof ExpectedVersionError);
    assert.deepEqual([error.streamName, error.expectedVersion, error.streamVersion], [stream, 1, -1]);
  });

  test('a duplicate id becomes DuplicateMessageIdError naming the id', async () => {
    const messageId = '7f0c4a4e-8d1b-4a59-9f7e-3f2a1c0d9b11';
    await connection.query(`SELECT write_message($1, 'dup-1', 'T', '{}')`, [messageId]);
    const error = await serverError(`SELECT write_message($1, 'dup-2', 'T', '{}')`, [messageId]);
    assert.ok(error instanceof DuplicateMessageIdError);
    assert.equal(error.messageId, messageId);
  });

  const invalidArguments: Array<[string, string, string]> = [
    ['Must be a stream name', `SELECT * FROM get_stream_messages('justcategory')`, 'streamName'],
    ['Must be a category', `SELECT * FROM get_category_messages('a-1')`, 'category'],
    ['Correlation must be a category', `SELECT * FROM get_category_messages('a', 1, 10, 'x-1')`, 'correlation'],
    ['member and size must be specified', `SELECT * FROM get_category_messages('a', 1, 10, NULL, 1, NULL)`, 'consumerGroup'],
    ['size must not be less than 1', `SELECT * FROM get_category_messages('a', 1, 10, NULL, 0, 0)`, 'consumerGroup'],
    ['member must not be less than 0', `SELECT * FROM get_category_messages('a', 1, 10, NULL, -1, 2)`, 'consumerGroup'],
    ['member must be less than the group size', `SELECT * FROM get_category_messages('a', 1, 10, NULL, 2, 2)`, 'consumerGroup'],
    ['smallint out of range', `SELECT * FROM get_category_messages('a', 1, 10, NULL, 0, 40000)`, 'consumerGroup.size'],
    ['LIMIT must not be negative', `SELECT * FROM get_stream_messages('a-1', 0, -2)`, 'batchSize'],
    ['invalid input syntax for type uuid', `SELECT write_message('not-a-uuid', 'a-1', 'T', '{}')`, 'id'],
  ];
  for (const [serverText, sql, argument] of invalidArguments) {
    test(`"${serverText}" becomes InvalidArgumentError naming ${argument}`, async () => {
      const error = await serverError(sql);
      assert.ok(error instanceof InvalidArgumentError, String(error));
      assert.equal(error.argument, argument);
      assert.ok((error.cause as Error).message.includes(serverText.split(' ')[0]!));
    });
  }

  test('a condition while sql_condition is off becomes ConditionNotEnabledError', async () => {
    const error = await serverError(`SELECT * FROM get_stream_messages('a-1', 0, 10, 'true')`);
    assert.ok(error instanceof ConditionNotEnabledError);
  });

  test('a missing search_path entry or schema becomes SchemaMissingError', async () => {
    const bare = new pg.Client({ connectionString: (await createDatabase()).url });
    await bare.connect();
    try {
      const error = fromPostgresError(await bare.query(`SELECT message_store.write_message('a', 'b-1', 'T', '{}')`).catch((e: unknown) => e));
      assert.ok(error instanceof SchemaMissingError, String(error));
      assert.match(error.message, /client\.install\(\)/);
    } finally {
      await bare.end();
    }
  });

  test('an unrecognised error passes through unchanged', async () => {
    const original = await connection.query('SELECT 1/0').catch((e: unknown) => e);
    assert.equal(fromPostgresError(original), original);
  });
});
