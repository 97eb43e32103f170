/**
 * The postgres engine decodes message rows as they arrive (engine/postgres-connection.ts). A
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

  test('a row larger than many socket reads, with text in several scripts, reads back whole, beside small ones', async () => {
    const big = { text: 'ż€😀a'.repeat(40_000), n: 1 };
    const streamName = `${randomCategory('large')}-1`;
    await client.writeMessages([
      { streamName, type: 'Small', data: { n: 0 } },
      { streamName, type: 'Bigger', data: big, metadata: { correlationStreamName: 'ünï-1' } },
      { streamName, type: 'Small', data: { n: 2 } },
    ]);
    const read = await client.getStreamMessages(streamName);
    assert.deepEqual(
      read.map((m) => m.type),
      ['Small', 'Bigger', 'Small'],
    );
    assert.deepEqual(read[1]?.data, big);
    assert.deepEqual(read[1]?.metadata, { correlationStreamName: 'ünï-1' });
    assert.deepEqual(read[2]?.data, { n: 2 });
    assert.deepEqual((await client.getLastStreamMessage(streamName, { type: 'Bigger' }))?.data, big);
  });

  test('global positions of 15 and 16 digits read back exactly', async () => {
    const streamName = `${randomCategory('digits')}-1`;
    for (const [position, globalPosition] of [
      [0, '999999999999999'],
      [1, '1234567890123456'],
    ] as const) {
      await raw.query(
        `INSERT INTO message_store.messages (id, stream_name, type, position, global_position, data) VALUES (gen_random_uuid(), $1, 'Far', $2, $3::bigint, '{}')`,
        [streamName, position, globalPosition],
      );
    }
    const read = await client.getStreamMessages(streamName);
    assert.deepEqual(
      read.map((m) => [m.position, m.globalPosition]),
      [
        [0, 999999999999999],
        [1, 1234567890123456],
      ],
    );
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
