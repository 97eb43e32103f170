/**
 * The client contract, run identically on a real PostgreSQL server and on PGlite.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  ClosedError,
  ConditionNotEnabledError,
  DuplicateMessageIdError,
  ExpectedVersionError,
  InvalidArgumentError,
  type MessageDbClient,
  follow,
  isExpectedVersionError,
} from '../../src/index.ts';
import { engines, randomCategory, randomStreamName } from '../support/databases.ts';

for (const engine of engines) {
  describe(`contract on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test('install is idempotent and reports version 1.3.0', async () => {
      assert.deepEqual(await client.install(), { action: 'verified', version: '1.3.0' });
      assert.equal(await client.messageStoreVersion(), '1.3.0');
    });

    test('writeMessage returns consecutive stream positions and the message reads back whole', async () => {
      const stream = randomStreamName();
      const id = randomUUID();
      const data = { amount: 10, nested: { list: [1, 'two', null], unicode: 'zażółć 🚀 é' } };
      const metadata = { correlationStreamName: 'other-1', properties: { a: 1 } };
      assert.equal(await client.writeMessage({ id, streamName: stream, type: 'Deposited', data, metadata }), 0);
      assert.equal(await client.writeMessage({ streamName: stream, type: 'Withdrawn' }), 1);
      const [first, second] = await client.getStreamMessages(stream);
      assert.ok(first && second);
      assert.equal(first.id, id);
      assert.equal(first.streamName, stream);
      assert.equal(first.type, 'Deposited');
      assert.equal(first.position, 0);
      assert.deepEqual(first.data, data);
      assert.deepEqual(first.metadata, metadata);
      assert.ok(first.time instanceof Date);
      assert.ok(Math.abs(first.time.getTime() - Date.now()) < 60_000, `time ${first.time.toISOString()} is now`);
      assert.equal(second.data, null);
      assert.equal(second.metadata, null);
      assert.equal(second.globalPosition > first.globalPosition, true);
    });

    test('an uppercase UUID is stored lowercase, as the server normalises it', async () => {
      const stream = randomStreamName();
      const id = randomUUID().toUpperCase();
      await client.writeMessage({ id, streamName: stream, type: 'T' });
      assert.equal((await client.getLastStreamMessage(stream))?.id, id.toLowerCase());
    });

    test('expectedVersion -1 accepts an empty stream and N accepts version N', async () => {
      const stream = randomStreamName();
      assert.equal(await client.writeMessage({ streamName: stream, type: 'A', expectedVersion: -1 }), 0);
      assert.equal(await client.writeMessage({ streamName: stream, type: 'B', expectedVersion: 0 }), 1);
      assert.equal(await client.streamVersion(stream), 1);
    });

    test('a wrong expectedVersion raises ExpectedVersionError with stream, expected and actual versions', async () => {
      const stream = randomStreamName();
      await client.writeMessage({ streamName: stream, type: 'A' });
      const error = await client.writeMessage({ streamName: stream, type: 'B', expectedVersion: 5 }).catch((e: unknown) => e);
      assert.ok(error instanceof ExpectedVersionError);
      assert.ok(isExpectedVersionError(error));
      assert.equal(error.code, 'EXPECTED_VERSION');
      assert.equal(error.streamName, stream);
      assert.equal(error.expectedVersion, 5);
      assert.equal(error.streamVersion, 0);
      assert.equal(await client.streamVersion(stream), 0);
    });

    test('streamVersion is -1 for a stream with no messages', async () => {
      assert.equal(await client.streamVersion(randomStreamName()), -1);
    });

    test('writeMessages writes a batch atomically and returns every position', async () => {
      const stream = randomStreamName();
      const other = randomStreamName();
      const positions = await client.writeMessages([
        { streamName: stream, type: 'A' },
        { streamName: other, type: 'B', data: { x: 1 } },
        { streamName: stream, type: 'C' },
      ]);
      assert.deepEqual(positions, [0, 0, 1]);
      assert.deepEqual(
        (await client.getStreamMessages(stream)).map((m) => m.type),
        ['A', 'C'],
      );
    });

    test('writeMessages checks expectedVersion for the first message and advances it per message', async () => {
      const stream = randomStreamName();
      await client.writeMessage({ streamName: stream, type: 'Start' });
      const positions = await client.writeMessages(
        Array.from({ length: 5 }, (_, i) => ({ streamName: stream, type: `M${i}` })),
        { expectedVersion: 0 },
      );
      assert.deepEqual(positions, [1, 2, 3, 4, 5]);
      const error = await client.writeMessages([{ streamName: stream, type: 'Late' }], { expectedVersion: 0 }).catch((e: unknown) => e);
      assert.ok(error instanceof ExpectedVersionError);
      assert.equal(error.streamVersion, 5);
    });

    test('writeMessages refuses an expectedVersion across several streams before any SQL', async () => {
      const category = randomCategory();
      const error = await client
        .writeMessages(
          [
            { streamName: `${category}-1`, type: 'A' },
            { streamName: `${category}-2`, type: 'B' },
          ],
          { expectedVersion: -1 },
        )
        .catch((e: unknown) => e);
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.argument, 'expectedVersion');
      assert.equal(await client.categoryHead(category), 0);
    });

    test('a batch of 100 whose 50th message fails writes nothing', async () => {
      const category = randomCategory();
      const taken = randomUUID();
      await client.writeMessage({ id: taken, streamName: randomStreamName(), type: 'Elsewhere' });
      const batch = Array.from({ length: 100 }, (_, i) => ({
        id: i === 49 ? taken : randomUUID(),
        streamName: `${category}-${i % 7}`,
        type: 'Batched',
        data: { i },
      }));
      const error = await client.writeMessages(batch).catch((e: unknown) => e);
      assert.ok(error instanceof DuplicateMessageIdError, String(error));
      assert.equal(error.messageId, taken);
      assert.deepEqual(await client.getCategoryMessages(category), []);
    });

    test('a batch whose expectedVersion is wrong writes nothing', async () => {
      const stream = randomStreamName();
      const error = await client
        .writeMessages(
          [
            { streamName: stream, type: 'A' },
            { streamName: stream, type: 'B' },
          ],
          { expectedVersion: 3 },
        )
        .catch((e: unknown) => e);
      assert.ok(error instanceof ExpectedVersionError);
      assert.equal(await client.streamVersion(stream), -1);
    });

    test('re-sending a stored message with its id returns its position instead of failing', async () => {
      const stream = randomStreamName();
      const message = { id: randomUUID(), streamName: stream, type: 'Deposited', data: { amount: 5 } };
      assert.equal(await client.writeMessage(message), 0);
      assert.equal(await client.writeMessage(message), 0);
      assert.equal(await client.writeMessage({ ...message, expectedVersion: -1 }), 0);
      assert.equal(await client.streamVersion(stream), 0);
    });

    test('re-sending a stored batch returns its positions', async () => {
      const stream = randomStreamName();
      const batch = [0, 1, 2].map((i) => ({ id: randomUUID(), streamName: stream, type: 'B', data: { i } }));
      assert.deepEqual(await client.writeMessages(batch), [0, 1, 2]);
      assert.deepEqual(await client.writeMessages(batch, { expectedVersion: -1 }), [0, 1, 2]);
      assert.equal(await client.streamVersion(stream), 2);
    });

    test('reusing an id for a different message raises DuplicateMessageIdError', async () => {
      const id = randomUUID();
      await client.writeMessage({ id, streamName: randomStreamName(), type: 'A' });
      const other = randomStreamName();
      const error = await client.writeMessage({ id, streamName: other, type: 'A' }).catch((e: unknown) => e);
      assert.ok(error instanceof DuplicateMessageIdError);
      assert.equal(error.code, 'DUPLICATE_MESSAGE_ID');
      assert.equal(await client.streamVersion(other), -1);
    });

    test('getStreamMessages honours position and batchSize, and -1 reads everything', async () => {
      const stream = randomStreamName();
      await client.writeMessages(Array.from({ length: 5 }, (_, i) => ({ streamName: stream, type: `M${i}` })));
      assert.deepEqual(
        (await client.getStreamMessages(stream, { position: 2, batchSize: 2 })).map((m) => m.position),
        [2, 3],
      );
      assert.equal((await client.getStreamMessages(stream, { batchSize: -1 })).length, 5);
    });

    test('getCategoryMessages reads by global position, inclusive, in order', async () => {
      const category = randomCategory();
      const positions = [];
      for (let i = 0; i < 6; i++) positions.push(await client.writeMessage({ streamName: `${category}-${i % 3}`, type: 'M', data: { i } }));
      const all = await client.getCategoryMessages(category);
      assert.deepEqual(
        all.map((m) => (m.data as { i: number }).i),
        [0, 1, 2, 3, 4, 5],
      );
      const from = all[2]!.globalPosition;
      const rest = await client.getCategoryMessages(category, { position: from, batchSize: 2 });
      assert.deepEqual(
        rest.map((m) => m.globalPosition),
        [all[2]!.globalPosition, all[3]!.globalPosition],
      );
    });

    test('getCategoryMessages filters by correlation category', async () => {
      const category = randomCategory();
      const correlation = randomCategory('corr');
      await client.writeMessage({ streamName: `${category}-1`, type: 'Plain' });
      await client.writeMessage({ streamName: `${category}-1`, type: 'Correlated', metadata: { correlationStreamName: `${correlation}-9` } });
      await client.writeMessage({ streamName: `${category}-2`, type: 'Correlated', metadata: { correlationStreamName: correlation } });
      const read = await client.getCategoryMessages(category, { correlation });
      assert.deepEqual(
        read.map((m) => m.type),
        ['Correlated', 'Correlated'],
      );
    });

    test('consumer group members read disjoint sets of whole cardinal ids that together are the category', async () => {
      const category = randomCategory();
      const messages = [];
      for (let i = 0; i < 40; i++) messages.push({ streamName: `${category}-${i % 10}+part${i % 3}`, type: 'M' });
      await client.writeMessages(messages);
      const seen = new Map<string, number>();
      let total = 0;
      for (let member = 0; member < 3; member++) {
        const read = await client.getCategoryMessages(category, { consumerGroup: { member, size: 3 } });
        total += read.length;
        for (const message of read) {
          const cardinal = message.streamName.split('-')[1]!.split('+')[0]!;
          assert.equal(seen.get(cardinal) ?? member, member, `cardinal ${cardinal} on one member`);
          seen.set(cardinal, member);
        }
      }
      assert.equal(total, 40);
    });

    test('getLastStreamMessage returns the last message, optionally of a type, or null', async () => {
      const stream = randomStreamName();
      await client.writeMessages([
        { streamName: stream, type: 'SomeType' },
        { streamName: stream, type: 'SomeType' },
        { streamName: stream, type: 'SomeOtherType' },
      ]);
      assert.equal((await client.getLastStreamMessage(stream))?.position, 2);
      const typed = await client.getLastStreamMessage(stream, { type: 'SomeType' });
      assert.equal(typed?.position, 1);
      assert.equal(await client.getLastStreamMessage(randomStreamName()), null);
    });

    test('readStream and readCategory page through everything a batch at a time', async () => {
      const category = randomCategory();
      const stream = `${category}-1`;
      await client.writeMessages(Array.from({ length: 25 }, (_, i) => ({ streamName: i % 2 ? stream : `${category}-2`, type: 'M', data: { i } })));
      const fromStream = [];
      for await (const message of client.readStream(stream, { batchSize: 4 })) fromStream.push(message.position);
      assert.deepEqual(
        fromStream,
        Array.from({ length: 12 }, (_, i) => i),
      );
      const fromCategory = [];
      for await (const message of client.readCategory(category, { batchSize: 5 })) fromCategory.push((message.data as { i: number }).i);
      assert.deepEqual(
        fromCategory,
        Array.from({ length: 25 }, (_, i) => i),
      );
    });

    test('condition is refused unless the client allows it', async () => {
      const stream = randomStreamName();
      await client.writeMessage({ streamName: stream, type: 'A' });
      await assert.rejects(client.getStreamMessages(stream, { condition: 'position >= 0' }), ConditionNotEnabledError);
    });

    test('condition filters when the client allows it', async () => {
      const allowing = await engine.open({ allowCondition: true });
      const category = randomCategory();
      await allowing.writeMessages([0, 1, 2].map((i) => ({ streamName: `${category}-1`, type: `T${i}` })));
      const read = await allowing.getCategoryMessages(category, { condition: 'messages.position >= 1' });
      assert.deepEqual(
        read.map((m) => m.type),
        ['T1', 'T2'],
      );
      const stream = await allowing.getStreamMessages(`${category}-1`, { condition: "type = 'T0'" });
      assert.deepEqual(
        stream.map((m) => m.type),
        ['T0'],
      );
    });

    test('follow carries causation, correlation, reply stream and properties, not localProperties', async () => {
      const stream = randomStreamName();
      await client.writeMessage({
        streamName: stream,
        type: 'Command',
        metadata: { correlationStreamName: 'corr-1', replyStreamName: 'reply-1', properties: { traceparent: 'x' }, localProperties: { l: 1 } },
      });
      const preceding = (await client.getLastStreamMessage(stream))!;
      const next = follow(preceding, { streamName: randomStreamName(), type: 'Event', data: { ok: true } });
      assert.deepEqual(next.metadata, {
        causationMessageStreamName: stream,
        causationMessagePosition: 0,
        causationMessageGlobalPosition: preceding.globalPosition,
        correlationStreamName: 'corr-1',
        replyStreamName: 'reply-1',
        properties: { traceparent: 'x' },
      });
      await client.writeMessage(next);
      assert.deepEqual((await client.getLastStreamMessage(next.streamName))?.metadata, next.metadata);
    });

    test('a transaction commits every write when its callback returns', async () => {
      const stream = randomStreamName();
      const result = await client.transaction(async (tx) => {
        await tx.writeMessage({ streamName: stream, type: 'A' });
        await tx.writeMessage({ streamName: stream, type: 'B', expectedVersion: 0 });
        assert.equal((await tx.getStreamMessages(stream)).length, 2);
        return 'done';
      });
      assert.equal(result, 'done');
      assert.equal(await client.streamVersion(stream), 1);
    });

    test('a transaction rolls back every write when its callback throws', async () => {
      const stream = randomStreamName();
      const failure = new Error('handler failed');
      await assert.rejects(
        client.transaction(async (tx) => {
          await tx.writeMessage({ streamName: stream, type: 'A' });
          throw failure;
        }),
        (error) => error === failure,
      );
      assert.equal(await client.streamVersion(stream), -1);
      assert.equal(client.poolStats().waiting, 0);
    });

    test('a transaction handle refuses use after the transaction ended', async () => {
      let escaped: Parameters<Parameters<MessageDbClient['transaction']>[0]>[0] | undefined;
      await client.transaction(async (tx) => {
        escaped = tx;
      });
      await assert.rejects(escaped!.writeMessage({ streamName: randomStreamName(), type: 'A' }), ClosedError);
    });

    test('an aborted signal stops a read before it runs', async () => {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(client.getCategoryMessages(randomCategory(), { signal: controller.signal }), { code: 'ABORTED' });
    });

    test('concurrent writers racing on one expected version: exactly one wins', async () => {
      const stream = randomStreamName();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => client.writeMessage({ streamName: stream, type: `W${i}`, expectedVersion: -1 })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const result of results) {
        if (result.status === 'rejected') assert.ok(result.reason instanceof ExpectedVersionError);
      }
      assert.equal(await client.streamVersion(stream), 0);
    });

    test('client.query runs your own SQL with bound parameters and gives each column as text', async () => {
      const stream = randomStreamName();
      await client.writeMessage({ streamName: stream, type: 'Deposited', data: { amount: 10 } });
      const rows = await client.query('SELECT type, position, data FROM message_store.messages WHERE stream_name = $1', [stream]);
      assert.deepEqual(rows, [{ type: 'Deposited', position: '0', data: '{"amount": 10}' }]);
      // A value that looks like SQL stays a value.
      assert.deepEqual(await client.query('SELECT $1::text AS v', ["'; DROP TABLE x; --"]), [{ v: "'; DROP TABLE x; --" }]);
    });

    test('client.query refuses what is not SQL with parameters before sending anything, and translates server errors', async () => {
      await assert.rejects(client.query(''), (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'sql');
      await assert.rejects(
        client.query('SELECT 1', 'x' as unknown as unknown[]),
        (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'params',
      );
      await assert.rejects(client.query('SELECT * FROM no_such_table_here'), /no_such_table_here/);
    });

    test('poolStats reports connections, idle and waiting', () => {
      const stats = client.poolStats();
      assert.ok(stats.total >= 1);
      assert.ok(stats.idle >= 0 && stats.idle <= stats.total);
      assert.equal(stats.waiting, 0);
    });

    test('close is idempotent and later calls fail with ClosedError', async () => {
      const own = await engine.open();
      await own.close();
      await own.close();
      assert.equal(own.closed, true);
      await assert.rejects(own.writeMessage({ streamName: randomStreamName(), type: 'A' }), ClosedError);
      await assert.rejects(own.getCategoryMessages(randomCategory()), ClosedError);
      await assert.rejects(own.query('SELECT 1'), ClosedError);
    });
  });
}
