/**
 * Eventide interoperability of consumer positions, checked with raw SQL on a real server: a
 * position stream written the way Eventide's `Consumer::Postgres::PositionStore` writes it is
 * picked up, and the positions this package writes are exactly what Eventide reads.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { Consumer, type MessageDbClient } from '../../src/index.ts';
import { createDatabase, onFileEnd, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { Handled, writeSpread } from '../support/consumer-support.ts';

describe('consumer positions, Eventide interop (raw SQL)', () => {
  let database: TestDatabase;
  let client: MessageDbClient;
  let raw: pg.Client;

  before(async () => {
    database = await createDatabase();
    client = await postgresClient({}, database);
    // What Eventide's session does: a plain connection with message_store on the search path.
    raw = new pg.Client({ connectionString: database.url, options: '-c search_path=message_store,public' });
    await raw.connect();
    onFileEnd(() => raw.end());
  });

  /** Eventide's PositionStore#put: write_message(id, stream, 'Recorded', {"position": n}), no metadata, no expected version. */
  async function eventidePut(streamName: string, position: number): Promise<void> {
    await raw.query(`SELECT message_store.write_message(gen_random_uuid()::varchar, $1::varchar, 'Recorded', jsonb_build_object('position', $2::bigint))`, [
      streamName,
      position,
    ]);
  }

  async function firstHandled(consumer: Consumer): Promise<number | undefined> {
    const handled = new Handled();
    consumer.onAny((message) => handled.add(message));
    const running = consumer.start();
    await handled.count(1);
    await consumer.stop();
    await running;
    return handled.messages[0]?.globalPosition;
  }

  for (const [kind, types] of [
    ['an entity category', ''],
    ['a command category', ':command'],
  ] as const) {
    test(`a position stream Eventide wrote for ${kind} is picked up, and its position delivered again`, async () => {
      const category = randomCategory() + types;
      await writeSpread(client, category, 10, 2);
      const messages = await client.getCategoryMessages(category);
      const recorded = messages[6]?.globalPosition ?? 0;
      const streamName = types === '' ? `${category}:position-worker1` : `${category}+position-worker1`;
      await eventidePut(streamName, messages[2]?.globalPosition ?? 0);
      await eventidePut(streamName, recorded);

      const consumer = new Consumer(client, { category, identifier: 'worker1' });
      assert.equal(consumer.positionStreamName, streamName);
      assert.equal(await firstHandled(consumer), recorded);
    });
  }

  test('the positions a consumer writes read back as Eventide expects: stream name, type, data, no metadata', async () => {
    const entity = randomCategory();
    const category = `${entity}:command`;
    await writeSpread(client, category, 5, 1);
    const head = await client.categoryHead(category);
    const consumer = new Consumer(client, { category, identifier: 'someUniqueIdentifier' });
    await firstHandled(consumer);

    const { rows } = await raw.query<{ stream_name: string; type: string; data: string; metadata: string | null }>(
      `SELECT stream_name, type, data, metadata FROM message_store.get_last_stream_message($1::varchar)`,
      [`${entity}:command+position-someUniqueIdentifier`],
    );
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.equal(row?.stream_name, `${entity}:command+position-someUniqueIdentifier`);
    assert.equal(row?.type, 'Recorded');
    assert.equal(row?.metadata, null);
    const data = JSON.parse(row?.data ?? 'null') as Record<string, unknown>;
    assert.deepEqual(Object.keys(data), ['position']);
    assert.equal(typeof data.position, 'number');
    assert.ok(Number.isInteger(data.position));
    // The consumer stopped after its first message: that message's global position was recorded.
    assert.ok((data.position as number) <= head);

    const { rows: types } = await raw.query<{ kind: string }>(
      `SELECT jsonb_typeof(data->'position') AS kind FROM message_store.messages WHERE stream_name = $1`,
      [`${entity}:command+position-someUniqueIdentifier`],
    );
    assert.deepEqual(
      types.map((t) => t.kind),
      ['number'],
      'an integer, as Ruby reads it',
    );
  });

  test('the last message of the position stream wins, whatever came before, as with get_last_stream_message', async () => {
    const category = randomCategory();
    await writeSpread(client, category, 6, 3);
    const messages = await client.getCategoryMessages(category);
    await eventidePut(`${category}:position-x`, messages[4]?.globalPosition ?? 0);
    await eventidePut(`${category}:position-x`, messages[1]?.globalPosition ?? 0);
    assert.equal(await firstHandled(new Consumer(client, { category, identifier: 'x' })), messages[1]?.globalPosition);
  });
});
