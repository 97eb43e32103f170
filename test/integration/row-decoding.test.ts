/**
 * The postgres engine decodes message rows as they arrive (engine/postgres.ts, StatementQuery). A
 * row the decoder refuses must fail the whole read with the decoder's typed error, hand back no
 * partial batch, and leave the connection in step with the server for the next caller.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { UnsafeIntegerError, type MessageDbClient } from '../../src/index.ts';
import { createDatabase, onFileEnd, postgresClient, randomCategory } from '../support/databases.ts';

/** 2^53 + 1: the first global position a JavaScript number cannot hold exactly. */
const unsafePosition = '9007199254740993';

describe('row decoding on postgres', () => {
  let client: MessageDbClient;
  let raw: pg.Client;
  let category: string;

  before(async () => {
    const database = await createDatabase();
    // One connection: every read below reuses the connection the failed read ran on.
    client = await postgresClient({ maxPoolSize: 1 }, database);
    raw = new pg.Client({ connectionString: database.url });
    await raw.connect();
    onFileEnd(() => raw.end());
    category = randomCategory('unsafe');
    await client.writeMessages([1, 2, 3].map((n) => ({ streamName: `${category}-${n}`, type: 'Fine', data: { n } })));
    // A message whose global position is past Number.MAX_SAFE_INTEGER, after three that are fine.
    await raw.query(
      `INSERT INTO message_store.messages (id, stream_name, type, position, global_position, data)
       VALUES (gen_random_uuid(), $1, 'Huge', 0, $2::bigint, '{}')`,
      [`${category}-4`, unsafePosition],
    );
  });

  test('a row past MAX_SAFE_INTEGER fails the read with UnsafeIntegerError, and no partial batch', async () => {
    const error = await client.getCategoryMessages(category).catch((e: unknown) => e);
    assert.ok(error instanceof UnsafeIntegerError, `got ${String(error)}`);
    assert.equal(error.code, 'UNSAFE_INTEGER');
    assert.match(error.message, new RegExp(`global_position ${unsafePosition}`));
    await assert.rejects(client.getLastStreamMessage(`${category}-4`), UnsafeIntegerError);
  });

  test('the connection stays usable after a refused row: the next read and write succeed on it', async () => {
    await client.getCategoryMessages(category).catch(() => {});
    const fine = await client.getCategoryMessages(category, { batchSize: 3 });
    assert.deepEqual(
      fine.map((m) => m.data),
      [{ n: 1 }, { n: 2 }, { n: 3 }],
    );
    assert.equal(await client.writeMessage({ streamName: `${category}-1`, type: 'Fine', data: { n: 5 } }), 1);
    assert.equal(client.poolStats().total, 1);
  });
});
