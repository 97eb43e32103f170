/**
 * Stream and category reads walk the stream or category index in order even when the table's
 * statistics are stale. Message DB's read functions plan their query when they run it; on a table
 * analyzed while empty (a new database) the planner expects a handful of rows and fetches every
 * message of the category or stream, then sorts them. The client's statements (src/vocabulary/sql.ts) turn
 * `enable_sort` off for their own transaction first. What the plan did is read from the index's
 * statistics (`idx_tup_read`): the ordered scan stops after the batch, the other reads the whole
 * category or stream. The statements run here as the client sends them, on a connection of the
 * test's own so its statistics can be flushed on demand (PostgreSQL 15+).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import * as sql from '../../src/vocabulary/sql.ts';
import { createDatabase, postgresClient, randomCategory } from '../support/databases.ts';

const messages = 10_000;
const batchSize = 1000;

describe('reads on a table whose statistics are stale', () => {
  let connection: pg.Client;
  const category = randomCategory('stale');
  const stream = `${randomCategory('stalestream')}-1`;

  before(async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    connection = new pg.Client({ connectionString: database.url, options: '-c search_path=message_store,public' });
    await connection.connect();
    // Analyzed while empty, and never again during the test.
    await connection.query('ALTER TABLE message_store.messages SET (autovacuum_enabled = false)');
    await connection.query('ANALYZE message_store.messages');
    await connection.query(
      `INSERT INTO message_store.messages (id, stream_name, type, position, data)
       SELECT gen_random_uuid(), $1::text || '-' || (n % 1000), 'Deposited', n / 1000, '{"amount": 100}'::jsonb
         FROM generate_series(0, $2::int - 1) AS n ORDER BY n`,
      [category, messages],
    );
    await connection.query(
      `INSERT INTO message_store.messages (id, stream_name, type, position, data)
       SELECT gen_random_uuid(), $1::text, 'Deposited', n, '{"amount": 100}'::jsonb
         FROM generate_series(0, $2::int - 1) AS n ORDER BY n`,
      [stream, messages],
    );
  });
  after(async () => {
    await connection?.end();
  });

  /** Index entries `index` returned while `run` ran on the test's connection, and what `run` returned. */
  async function indexEntriesRead<T>(index: string, run: () => Promise<T>): Promise<{ entries: number; result: T }> {
    const readCount = async (): Promise<number> => {
      await connection.query('SELECT pg_stat_force_next_flush()');
      await connection.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await connection.query<{ read: string }>('SELECT idx_tup_read AS read FROM pg_stat_user_indexes WHERE indexrelname = $1', [index]);
      return Number(rows[0]?.read);
    };
    const before = await readCount();
    const result = await run();
    return { entries: (await readCount()) - before, result };
  }

  const ids = (result: pg.QueryResult): string[] => result.rows.map((row: unknown[]) => String(row[0]));
  const asArrays = (text: string, values: unknown[]) => connection.query({ text, values, rowMode: 'array' });

  test('a category read scans the category index in order, where the bare function reads the whole category', async () => {
    const plain = await indexEntriesRead('messages_category', () =>
      asArrays('SELECT id FROM message_store.get_category_messages($1::varchar, 1, $2::bigint)', [category, batchSize]),
    );
    assert.ok(plain.entries >= messages, `precondition: the bare function read ${plain.entries} index entries (the whole category is ${messages})`);

    const client = await indexEntriesRead('messages_category', () => asArrays(sql.getCategoryMessages.text, [category, 1, batchSize, null, null, null, null]));
    assert.ok(client.entries <= batchSize + 10, `the client's read took ${client.entries} index entries for ${batchSize} messages`);
    assert.deepEqual(ids(client.result), ids(plain.result));
  });

  test('a stream read scans the stream index in order, where the bare function reads the whole stream', async () => {
    const plain = await indexEntriesRead('messages_stream', () =>
      asArrays('SELECT id FROM message_store.get_stream_messages($1::varchar, 5000, $2::bigint)', [stream, batchSize]),
    );
    assert.ok(plain.entries >= messages / 2, `precondition: the bare function read ${plain.entries} index entries (5000 from position 5000)`);

    const client = await indexEntriesRead('messages_stream', () => asArrays(sql.getStreamMessages.text, [stream, 5000, batchSize, null]));
    assert.ok(client.entries <= batchSize + 10, `the client's read took ${client.entries} index entries for ${batchSize} messages`);
    assert.deepEqual(ids(client.result), ids(plain.result));
  });

  test('the setting lasts only to the end of the statement, or of the transaction it runs in', async () => {
    const enableSort = async (): Promise<string> => (await connection.query<{ enable_sort: string }>('SHOW enable_sort')).rows[0]?.enable_sort ?? '';
    await asArrays(sql.getCategoryMessages.text, [category, 1, 10, null, null, null, null]);
    assert.equal(await enableSort(), 'on');
    await connection.query('BEGIN');
    await asArrays(sql.getStreamMessages.text, [stream, 0, 10, null]);
    assert.equal(await enableSort(), 'off');
    await connection.query('COMMIT');
    assert.equal(await enableSort(), 'on');
  });
});
