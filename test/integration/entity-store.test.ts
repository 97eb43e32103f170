/**
 * The entity store on a real PostgreSQL server and on PGlite: projection, the cache, Eventide
 * snapshots (read and written in Eventide's exact format), command handling with retries, follow.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import {
  EntityStore,
  InvalidArgumentError,
  followMetadata,
  writeInitial,
  writeReply,
  isEntityConflictError,
  isExpectedVersionError,
  isProjectionError,
  snapshotStreamName,
  type Message,
  type MessageDbClient,
} from '../../src/index.ts';
import { engines, randomCategory } from '../support/databases.ts';
import { sample as sampleValue } from '../support/metrics-text.ts';

interface Account {
  balance: number;
  deposits: number;
}

const accountProjection = {
  // One mutates, one returns a new entity: both forms are allowed.
  Deposited: (account: Account, data: { amount: number }) => {
    account.balance += data.amount;
    account.deposits += 1;
  },
  Withdrawn: (account: Account, data: { amount: number }): Account => ({ ...account, balance: account.balance - data.amount }),
};

const newAccount = (): Account => ({ balance: 0, deposits: 0 });

async function deposit(client: MessageDbClient, streamName: string, amounts: number[]): Promise<void> {
  await client.writeMessages(amounts.map((amount) => ({ streamName, type: 'Deposited', data: { amount } })));
}

/** A metric's value for exactly these labels, from the registry's text (a scrape applies queued updates). */
async function sample(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  return sampleValue(await registry.metrics(), name, labels) ?? 0;
}

/** The snapshot stream's last message as the server prints it: type, data and metadata text. */
async function lastMessageText(
  client: MessageDbClient,
  streamName: string,
): Promise<{ type: string; data: string; metadata: string | null; position: string } | undefined> {
  return client.transaction(async (tx) => {
    const rows = await tx.query('SELECT type, data, metadata, position FROM get_last_stream_message($1)', [streamName]);
    return rows[0] as { type: string; data: string; metadata: string | null; position: string } | undefined;
  });
}

for (const engine of engines) {
  describe(`entity store on ${engine.name}`, () => {
    let client: MessageDbClient;
    let registry: Registry;
    before(async () => {
      registry = new Registry();
      client = await engine.open({ metrics: registry });
    });

    test('an entity whose stream has no messages is fetched as a new entity at version -1, and get returns null', async () => {
      const store = new EntityStore(client, { category: randomCategory('account'), entity: newAccount, projection: accountProjection });
      assert.deepEqual(await store.fetch('1'), { entity: { balance: 0, deposits: 0 }, version: -1 });
      assert.equal(await store.get('1'), null);
      assert.equal(await store.getVersion('1'), -1);
    });

    test('fetch applies every message in order, by mutation or by a returned entity, and ignores types without a function', async () => {
      const category = randomCategory('account');
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection });
      await client.writeMessages([
        { streamName: `${category}-1`, type: 'Deposited', data: { amount: 100 } },
        { streamName: `${category}-1`, type: 'Renamed', data: { name: 'x' } },
        { streamName: `${category}-1`, type: 'Withdrawn', data: { amount: 30 } },
        { streamName: `${category}-1`, type: 'Deposited', data: { amount: 5 } },
      ]);
      assert.deepEqual(await store.fetch('1'), { entity: { balance: 75, deposits: 2 }, version: 3 });
      assert.deepEqual(await store.get('1'), { entity: { balance: 75, deposits: 2 }, version: 3 });
    });

    test('a cached fetch with nothing new is one read that returns no message', async () => {
      const category = randomCategory('account');
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection });
      await deposit(client, `${category}-1`, [1, 2, 3]);
      await store.fetch('1');
      const reads = await sample(registry, 'messagedb_reads_total', { kind: 'stream', outcome: 'ok' });
      const messagesRead = await sample(registry, 'messagedb_messages_read_total', { kind: 'stream' });
      const lastReads = await sample(registry, 'messagedb_reads_total', { kind: 'last', outcome: 'ok' });
      const cacheFetches = await sample(registry, 'messagedb_entity_fetches_total', { category, source: 'cache' });

      assert.deepEqual(await store.fetch('1'), { entity: { balance: 6, deposits: 3 }, version: 2 });

      assert.equal(await sample(registry, 'messagedb_reads_total', { kind: 'stream', outcome: 'ok' }), reads + 1, 'one get_stream_messages');
      assert.equal(await sample(registry, 'messagedb_messages_read_total', { kind: 'stream' }), messagesRead, 'no message read');
      assert.equal(await sample(registry, 'messagedb_reads_total', { kind: 'last', outcome: 'ok' }), lastReads, 'no snapshot read');
      assert.equal(await sample(registry, 'messagedb_entity_fetches_total', { category, source: 'cache' }), cacheFetches + 1);
    });

    test('a cached fetch reads only the messages after the cached version', async () => {
      const category = randomCategory('account');
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection });
      await deposit(client, `${category}-1`, [1, 2, 3]);
      await store.fetch('1');
      await deposit(client, `${category}-1`, [10, 20]);
      const before = store.stats().messagesProjected;
      assert.deepEqual(await store.fetch('1'), { entity: { balance: 36, deposits: 5 }, version: 4 });
      assert.equal(store.stats().messagesProjected - before, 2);
    });

    test("a snapshot written by raw SQL in Eventide's format is used: only the messages after its entityVersion are projected", async () => {
      const category = randomCategory('account');
      const streamName = `${category}-7`;
      await deposit(client, streamName, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
      // As EntitySnapshot::Postgres#put writes it: type Recorded, camelCased data, no metadata, no expected version.
      // The entity data says 1000, which the events alone never give: the result shows the snapshot was read.
      await client.transaction((tx) =>
        tx.query('SELECT write_message($1::varchar, $2::varchar, $3::varchar, $4::jsonb, NULL, NULL)', [
          randomUUID(),
          `${category}:snapshot-7`,
          'Recorded',
          '{"entityData":{"balance":1000,"deposits":7},"entityVersion":6,"time":"2026-12-02T14:48:58.329Z"}',
        ]),
      );
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection, snapshot: { interval: 100 } });
      assert.deepEqual(await store.fetch('7'), { entity: { balance: 1003, deposits: 10 }, version: 9 });
      const stats = store.stats();
      assert.equal(stats.snapshotsRead, 1);
      assert.equal(stats.messagesProjected, 3, 'positions 7, 8 and 9 only');
      assert.equal(stats.snapshotsWritten, 0, '9 - 6 is under the interval');
    });

    test("our snapshot is Eventide's format byte for byte, written when the version is interval past the last one", async () => {
      const category = randomCategory('account');
      const streamName = `${category}-9`;
      const snapshotStream = `${category}:snapshot-9`;
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection, snapshot: { interval: 5 } });
      assert.equal(store.snapshotStreamName('9'), snapshotStream);
      assert.equal(snapshotStreamName(category, '9'), snapshotStream);

      await deposit(client, streamName, [10, 10, 10, 10]);
      await store.fetch('9');
      assert.equal(await lastMessageText(client, snapshotStream), undefined, 'version 3 is 4 past -1: no snapshot');

      await deposit(client, streamName, [10]);
      await store.fetch('9');
      const written = await lastMessageText(client, snapshotStream);
      assert.ok(written !== undefined, 'version 4 is 5 past -1: a snapshot');
      assert.equal(written.type, 'Recorded');
      assert.equal(written.metadata, null);
      const time = (JSON.parse(written.data) as { time: string }).time;
      assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO-8601 UTC with milliseconds');
      // The same snapshot as Ruby's JSON would put it, printed by the server: the stored text is identical.
      const ruby = `{"entityData":{"balance":50,"deposits":5},"entityVersion":4,"time":"${time}"}`;
      const expected = await client.transaction(async (tx) => (await tx.query('SELECT $1::jsonb::text AS data', [ruby]))[0]?.data);
      assert.equal(written.data, expected);

      await store.fetch('9');
      assert.equal((await lastMessageText(client, snapshotStream))?.position, '0', 'an unchanged version writes no new snapshot');
      await deposit(client, streamName, [1, 1, 1, 1]);
      await store.fetch('9');
      assert.equal((await lastMessageText(client, snapshotStream))?.position, '0', 'version 8 is 4 past 4');
      await deposit(client, streamName, [1]);
      await store.fetch('9');
      const second = await lastMessageText(client, snapshotStream);
      assert.equal(second?.position, '1', 'version 9 is 5 past 4');
      assert.deepEqual((JSON.parse(second.data) as { entityVersion: number }).entityVersion, 9);

      // A new store (a restarted process) starts from it.
      const restarted = new EntityStore(client, { category, entity: newAccount, projection: accountProjection, snapshot: { interval: 5 } });
      assert.deepEqual(await restarted.fetch('9'), { entity: { balance: 55, deposits: 10 }, version: 9 });
      assert.equal(restarted.stats().messagesProjected, 0);
      assert.equal(restarted.stats().snapshotsRead, 1);
    });

    test('a snapshot named after an entity other than the category is read and written there', async () => {
      const category = randomCategory('account');
      const entityName = randomCategory('bankAccount');
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection, snapshot: { interval: 1, entity: entityName } });
      await deposit(client, `${category}-1`, [5]);
      await store.fetch('1');
      assert.equal((await lastMessageText(client, `${entityName}:snapshot-1`))?.type, 'Recorded');
    });

    test('a snapshot that cannot be written does not fail the fetch; it is counted', async () => {
      const category = randomCategory('account');
      const store = new EntityStore(client, {
        category,
        entity: newAccount,
        projection: accountProjection,
        // A BigInt has no JSON form: the write is refused.
        snapshot: { interval: 1, toData: (account) => ({ ...account, big: 1n }) },
      });
      await deposit(client, `${category}-1`, [5]);
      assert.deepEqual(await store.fetch('1'), { entity: { balance: 5, deposits: 1 }, version: 0 });
      assert.equal(store.stats().snapshotWriteErrors, 1);
      assert.equal(await sample(registry, 'messagedb_entity_snapshot_writes_total', { category, outcome: 'error' }), 1);
    });

    test('a snapshot that cannot be used is passed over: the entity is projected from its stream', async () => {
      const category = randomCategory('account');
      await deposit(client, `${category}-1`, [5, 5]);
      await client.writeMessage({ streamName: `${category}:snapshot-1`, type: 'Recorded', data: { entityVersion: 'one' } });
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection, snapshot: { interval: 100 } });
      assert.deepEqual(await store.fetch('1'), { entity: { balance: 10, deposits: 2 }, version: 1 });
      assert.equal(await sample(registry, 'messagedb_entity_snapshots_ignored_total', { category }), 1);
    });

    test('a projection that throws midway leaves the cached entity as it was', async () => {
      const category = randomCategory('account');
      let failing = true;
      const store = new EntityStore(client, {
        category,
        entity: newAccount,
        projection: {
          ...accountProjection,
          Audited: () => {
            if (failing) throw new RangeError('not now');
          },
        },
      });
      await deposit(client, `${category}-1`, [1]);
      await store.fetch('1');
      await client.writeMessages([
        { streamName: `${category}-1`, type: 'Deposited', data: { amount: 10 } },
        { streamName: `${category}-1`, type: 'Audited' },
      ]);
      await assert.rejects(store.fetch('1'), (error: unknown) => {
        assert.ok(isProjectionError(error));
        assert.equal(error.position, 2);
        assert.equal(error.type, 'Audited');
        assert.ok(error.cause instanceof RangeError);
        return true;
      });
      failing = false;
      // Had the failed fetch changed the cached entity, the deposit of 10 would count twice.
      assert.deepEqual(await store.fetch('1'), { entity: { balance: 11, deposits: 2 }, version: 2 });
    });

    test('twenty concurrent handle calls on one entity all succeed through retries: none lost, versions contiguous', async () => {
      const category = randomCategory('account');
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          // Each conflict means another call wrote in between, so 19 retries always suffice.
          store.handle('1', () => ({ type: 'Deposited', data: { amount: index + 1 } }), { retries: 19 }),
        ),
      );
      const positions = results.flat().sort((a, b) => a - b);
      assert.deepEqual(
        positions,
        Array.from({ length: 20 }, (_, index) => index),
      );
      const messages = await client.getStreamMessages<{ amount: number }>(`${category}-1`);
      assert.deepEqual(
        messages.map((message) => message.position),
        positions,
      );
      assert.deepEqual(
        messages.map((message) => message.data.amount).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, index) => index + 1),
      );
      assert.deepEqual(await store.fetch('1'), { entity: { balance: 210, deposits: 20 }, version: 19 });
      assert.ok(store.stats().conflicts > 0, 'the calls did collide');
    });

    test('handle decides on the current state, writes nothing for an empty decision, and writes a batch atomically', async () => {
      const category = randomCategory('account');
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection });
      const withdraw = (account: Account) => (account.balance < 10 ? [] : [{ type: 'Withdrawn', data: { amount: 10 } }]);
      assert.deepEqual(await store.handle('1', withdraw), []);
      assert.deepEqual(
        await store.handle('1', () => [
          { type: 'Deposited', data: { amount: 15 } },
          { type: 'Deposited', data: { amount: 5 } },
        ]),
        [0, 1],
      );
      assert.deepEqual(await store.handle('1', withdraw), [2]);
      assert.deepEqual(await store.handle('1', withdraw), [3]);
      assert.deepEqual(await store.handle('1', withdraw), []);
      assert.deepEqual(await store.fetch('1'), { entity: { balance: 0, deposits: 2 }, version: 3 });
    });

    test('handle gives up with EntityConflictError, an ExpectedVersionError, after its retries', async () => {
      const category = randomCategory('account');
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection });
      let decisions = 0;
      const interfering = async (): Promise<{ type: string; data: { amount: number } }> => {
        decisions++;
        // Someone else writes while this call decides, every time.
        await client.writeMessage({ streamName: `${category}-1`, type: 'Deposited', data: { amount: 1 } });
        return { type: 'Deposited', data: { amount: 100 } };
      };
      await assert.rejects(store.handle('1', interfering, { retries: 2, retryDelayMs: 1 }), (error: unknown) => {
        assert.ok(isEntityConflictError(error));
        assert.ok(isExpectedVersionError(error));
        assert.equal(error.attempts, 3);
        assert.match(error.message, /gave up after 3 attempts/);
        return true;
      });
      assert.equal(decisions, 3);
    });

    test("handle with follow writes messages that follow the handled one (Eventide's follow)", async () => {
      const category = randomCategory('account');
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection });
      const commandStream = `${category}:command-1`;
      await client.writeMessage({
        streamName: commandStream,
        type: 'Deposit',
        data: { amount: 5 },
        metadata: { correlationStreamName: 'web-1', replyStreamName: 'web:reply-1', properties: { tenant: 'a' }, localProperties: { secret: 1 } },
      });
      const [command] = (await client.getStreamMessages(commandStream)) as [Message<{ amount: number }>];
      await store.handle('1', () => ({ type: 'Deposited', data: { amount: command.data.amount } }), { follow: command });
      const [event] = (await client.getStreamMessages(`${category}-1`)) as [Message];
      assert.deepEqual(event.metadata, {
        causationMessageStreamName: commandStream,
        causationMessagePosition: 0,
        causationMessageGlobalPosition: command.globalPosition,
        correlationStreamName: 'web-1',
        replyStreamName: 'web:reply-1',
        properties: { tenant: 'a' },
      });
    });

    test('writeInitial writes the first message of a stream and refuses a stream that has one', async () => {
      const streamName = `${randomCategory('account')}-1`;
      assert.equal(await writeInitial(client, { streamName, type: 'Opened', data: { owner: 'Ada' } }), 0);
      await assert.rejects(writeInitial(client, { streamName, type: 'Opened', data: { owner: 'Bob' } }), (error: unknown) => {
        assert.ok(isExpectedVersionError(error));
        assert.equal(error.expectedVersion, -1);
        assert.equal(error.streamVersion, 0);
        return true;
      });
      assert.equal((await client.getStreamMessages(streamName)).length, 1);
    });

    test('writeReply writes to the reply stream a followed command names, with replyStreamName removed', async () => {
      const category = randomCategory('account');
      const replyStream = `${category}:reply-9`;
      await client.writeMessage({
        streamName: `${category}:command-1`,
        type: 'Open',
        data: {},
        metadata: { replyStreamName: replyStream, correlationStreamName: 'web-1' },
      });
      const [command] = (await client.getStreamMessages(`${category}:command-1`)) as [Message];
      assert.equal(await writeReply(client, { type: 'Opened', data: { id: '1' }, metadata: followMetadata(command) }), 0);
      const [reply] = (await client.getStreamMessages(replyStream)) as [Message];
      assert.equal(reply.type, 'Opened');
      assert.deepEqual(reply.metadata, {
        causationMessageStreamName: `${category}:command-1`,
        causationMessagePosition: 0,
        causationMessageGlobalPosition: command.globalPosition,
        correlationStreamName: 'web-1',
      });
      await assert.rejects(
        writeReply(client, { type: 'Opened', metadata: { correlationStreamName: 'web-1' } }),
        /message\.metadata\.replyStreamName must name the stream to reply to/,
      );
      // In a transaction too: the handle has the client's write methods.
      await client.transaction((tx) => writeReply(tx, { type: 'Closed', metadata: { replyStreamName: replyStream } }));
      const [, closed] = (await client.getStreamMessages(replyStream)) as [Message, Message];
      assert.equal(closed.metadata, null, 'nothing left after the reply stream name is removed');
    });

    test('bad arguments are refused with InvalidArgumentError naming them, before any SQL', async () => {
      const category = randomCategory('account');
      assert.throws(() => new EntityStore(client, { category: 'account-1', entity: newAccount, projection: {} }), /category must be a category/);
      assert.throws(
        () => new EntityStore(client, { category, entity: newAccount, projection: { Deposited: 1 as never } }),
        /projection\.Deposited must be a function/,
      );
      assert.throws(() => new EntityStore(client, { category, entity: newAccount, projection: {}, snapshot: { interval: 0 } }), InvalidArgumentError);
      const store = new EntityStore(client, { category, entity: newAccount, projection: accountProjection });
      await assert.rejects(store.fetch(''), /id must be a non-empty string/);
      await assert.rejects(
        store.handle('1', () => ({ streamName: 'other-1', type: 'Deposited' })),
        /decision\[0\]\.streamName must be the entity's stream/,
      );
      await assert.rejects(
        store.handle('1', () => [], { retries: -1 }),
        /retries must be/,
      );
      assert.equal(await client.streamVersion(`${category}-1`), -1);
    });
  });
}
