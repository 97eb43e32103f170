/**
 * Position compaction on a real server: under a running consumer that records every message (the
 * consumer loses nothing, its resume point and its stream's version are unchanged, records are
 * deleted), a dry run that deletes nothing, `keep`, snapshot streams, bad input, the refusal under a
 * role with Message DB's `message_store` grants, and plans that walk the category index.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  AbortError,
  Consumer,
  InvalidArgumentError,
  MessageDbClient,
  PermissionDeniedError,
  compactPositions,
  positionStreamName,
  recordPosition,
  type CompactPositionsResult,
} from '../../src/index.ts';
import * as sql from '../../src/vocabulary/sql.ts';
import { adminQuery, createDatabase, onFileEnd, pgliteClient, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { Handled, recordedPositions, writeSpread } from '../support/consumer-support.ts';

/** Record `count` positions (1, 2, ...) in `streamName`, as a consumer would over time. */
async function recordMany(client: MessageDbClient, streamName: string, count: number): Promise<void> {
  for (let position = 1; position <= count; position++) await recordPosition(client, streamName, position);
}

async function messageCount(client: MessageDbClient, streamName: string): Promise<number> {
  return (await client.getStreamMessages(streamName, { batchSize: -1 })).length;
}

describe('compactPositions (real server)', () => {
  let database: TestDatabase;
  let client: MessageDbClient;
  before(async () => {
    database = await createDatabase();
    client = await postgresClient({}, database);
  });

  test('under a consumer recording every message while writes go on, nothing is lost, records are deleted, and its resume point and stream version are unchanged', async () => {
    const category = randomCategory('compactLive');
    await writeSpread(client, category, 200, 10);
    const handled = new Handled();
    const consumer = new Consumer(client, { category, identifier: 'live', positionUpdateInterval: 1, batchSize: 20, pollIntervalMs: 20 }).onAny((message) =>
      handled.add(message),
    );
    const running = consumer.start();
    const results: CompactPositionsResult[] = [];
    let writing = true;
    const writer = (async () => {
      for (let round = 0; round < 10; round++) await writeSpread(client, category, 20, 10, { firstStream: round });
      writing = false;
    })();
    // Compact again and again while the consumer records and the writer writes, in small batches.
    while (writing || results.length < 3) results.push(await compactPositions(client, { category, batchSize: 25 }));
    await writer;
    const head = await client.categoryHead(category);
    await handled.through(head);
    await consumer.stop();
    await running;
    assert.ok(
      results.some((result) => result.deleted > 0),
      `some compaction deleted records: ${JSON.stringify(results.map((r) => r.deleted))}`,
    );
    const all = await client.getCategoryMessages(category, { batchSize: -1 });
    assert.deepEqual(new Set(handled.globalPositions), new Set(all.map((message) => message.globalPosition)), 'every message handled');

    const streamName = consumer.positionStreamName;
    const version = await client.streamVersion(streamName);
    const last = await client.getLastStreamMessage(streamName);
    const final = await compactPositions(client, { category });
    assert.equal(await client.streamVersion(streamName), version, 'the stream version is unchanged');
    assert.deepEqual(await client.getLastStreamMessage(streamName), last, 'the last record is the same message');
    assert.deepEqual(await recordedPositions(client, streamName), [head]);
    assert.ok(final.deleted >= 0 && final.categories[0]?.category === `${category}:position`);

    // Started again, it resumes at its recorded position: the head, delivered again (at-least-once).
    const resumed = new Handled();
    const again = new Consumer(client, { category, identifier: 'live', pollIntervalMs: 20 }).onAny((message) => resumed.add(message));
    const rerun = again.start();
    await resumed.count(1);
    await again.stop();
    await rerun;
    assert.deepEqual(resumed.globalPositions, [head]);
  });

  test('a dry run reports what a real run then deletes, and deletes nothing', async () => {
    const category = randomCategory('compactDry');
    const streams = ['a', 'b', 'c'].map((identifier) => positionStreamName(category, identifier));
    for (const [index, streamName] of streams.entries()) await recordMany(client, streamName, 3 + index * 2);
    const dry = await compactPositions(client, { category, dryRun: true, batchSize: 4 });
    assert.deepEqual(await Promise.all(streams.map((streamName) => messageCount(client, streamName))), [3, 5, 7]);
    assert.deepEqual(dry, { dryRun: true, deleted: 12, scanned: 15, batches: 4, categories: [{ category: `${category}:position`, scanned: 15, deleted: 12 }] });
    const real = await compactPositions(client, { category, batchSize: 4 });
    assert.deepEqual({ ...real, dryRun: true }, dry);
    assert.deepEqual(await Promise.all(streams.map((streamName) => recordedPositions(client, streamName))), [[3], [5], [7]]);
  });

  test('keep leaves each stream its newest records; snapshot streams are compacted only when asked; without a category every position category is found', async () => {
    const category = randomCategory('compactKeep');
    const positions = positionStreamName(category, 'k');
    const snapshots = `${category}:snapshot-1`;
    await recordMany(client, positions, 6);
    for (let version = 0; version < 4; version++) await client.writeMessage({ streamName: snapshots, type: 'Recorded', data: { entityVersion: version } });
    await compactPositions(client, { category, keep: 3 });
    assert.deepEqual(await recordedPositions(client, positions), [4, 5, 6]);
    assert.equal(await messageCount(client, snapshots), 4);
    const everything = await compactPositions(client, { snapshots: true });
    assert.ok(everything.categories.some((row) => row.category === `${category}:snapshot` && row.deleted === 3));
    assert.ok(everything.categories.some((row) => row.category === `${category}:position` && row.deleted === 2));
    assert.deepEqual(await recordedPositions(client, positions), [6]);
    const [snapshot] = await client.getStreamMessages<{ entityVersion: number }>(snapshots);
    assert.deepEqual([snapshot?.position, snapshot?.data.entityVersion], [3, 3]);
    assert.equal(await client.streamVersion(snapshots), 3);
  });

  test('bad options are refused with a typed error naming them, and nothing is deleted', async () => {
    const category = randomCategory('compactBad');
    const streamName = positionStreamName(category, 'x');
    await recordMany(client, streamName, 3);
    const bad: Array<[object, RegExp]> = [
      [{ category, keep: 0 }, /^keep /],
      [{ category, batchSize: 0 }, /^batchSize /],
      [{ category: `${category}-1` }, /^category /],
      [{ category, dryRun: 'yes' }, /^dryRun /],
      [{ category, snapshots: 1 }, /^snapshots /],
      [{ category, signal: 'no' }, /signal/],
    ];
    for (const [options, message] of bad) {
      await assert.rejects(compactPositions(client, options), (error: unknown) => error instanceof InvalidArgumentError && message.test(error.message));
    }
    await assert.rejects(compactPositions(client, { category, signal: AbortSignal.abort() }), AbortError);
    assert.equal(await messageCount(client, streamName), 3);
  });

  test('on the embedded engine (PGlite) it compacts the same way', async () => {
    const embedded = await pgliteClient();
    const category = randomCategory('compactPglite');
    const streamName = positionStreamName(category, 'e');
    await recordMany(embedded, streamName, 5);
    assert.equal((await compactPositions(embedded, { dryRun: true })).deleted, 4);
    const result = await compactPositions(embedded, { batchSize: 2 });
    assert.deepEqual(result.categories, [{ category: `${category}:position`, scanned: 5, deleted: 4 }]);
    assert.deepEqual(await recordedPositions(embedded, streamName), [5]);
    assert.equal(await embedded.streamVersion(streamName), 4);
  });

  test("a role with the message_store role's grants gets a PermissionDeniedError that says what it needs, and deletes nothing; its dry run works", async () => {
    const category = randomCategory('compactRole');
    const streamName = positionStreamName(category, 'r');
    await recordMany(client, streamName, 3);
    const role = `mdbcompact_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(9).toString('hex');
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' IN ROLE message_store`);
    onFileEnd(() => adminQuery(`DROP ROLE IF EXISTS ${role}`));
    const url = new URL(database.url);
    url.username = role;
    url.password = password;
    const restricted = await MessageDbClient.connect(url.toString());
    onFileEnd(() => restricted.close());
    await assert.rejects(compactPositions(restricted, { category }), (error: unknown) => {
      assert.ok(error instanceof PermissionDeniedError);
      assert.equal(error.code, 'PERMISSION_DENIED');
      assert.match(error.message, /DELETE on message_store\.messages/);
      assert.doesNotMatch(error.message, new RegExp(password));
      return true;
    });
    assert.equal((await compactPositions(restricted, { category, dryRun: true })).deleted, 2);
    assert.equal(await messageCount(client, streamName), 3);
  });

  test('the statements walk the category index: no sequential scan of the messages', async () => {
    const filler = randomCategory('compactPlan');
    await client.query(
      `INSERT INTO message_store.messages (stream_name, type, position, data)
       SELECT $1::text || (g % 50) || ':position-w', 'Recorded', g / 50, '{"position": 1}' FROM generate_series(0, 19999) g`,
      [filler],
    );
    await client.query('ANALYZE message_store.messages');
    const plan = async (text: string, values: unknown[]): Promise<string> =>
      (await client.query(`EXPLAIN ${text}`, values)).map((row) => String(row['QUERY PLAN'])).join('\n');
    const categories = await plan(sql.categoriesOfTypes.text, ['{position}']);
    const step = await plan(sql.countCompactablePositions.text, [`${filler}1:position`, 0, 1_000_000, 1000, 1]);
    for (const text of [categories, step]) {
      assert.match(text, /messages_category/);
      assert.doesNotMatch(text, /Seq Scan on messages/);
    }
  });
});
