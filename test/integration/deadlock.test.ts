/**
 * Deadlocks between writes to two categories on a real server. write_message takes its category's
 * lock (pg_advisory_xact_lock) before inserting, so a batch writing to A then B and one writing to B
 * then A can each hold one lock and wait for the other; the server breaks the cycle by rolling one
 * back (40P01). Outside a transaction that statement is retried, being its own transaction rolled
 * back whole; inside one, or when retries run out, it is a DeadlockError.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { DeadlockError, MessageDbClient, type NewMessage } from '../../src/index.ts';
import { adminQuery, createDatabase, onFileEnd, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';

/** Messages to `first` then `second`. */
function crossing(first: string, second: string, tag: string): NewMessage[] {
  return [
    { streamName: `${first}-1`, type: 'Crossed', data: { tag } },
    { streamName: `${second}-1`, type: 'Crossed', data: { tag } },
  ];
}

/**
 * Make two writers deadlock for certain: a session holds both categories' locks while each writer
 * queues for its first category, then lets go; each writer then gets its first lock and waits for
 * the other's. Returns what each writer's promise settled with.
 */
async function deadlockOf<A, B>(
  url: string,
  categories: [string, string],
  writers: [() => Promise<A>, () => Promise<B>],
): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]> {
  const holder = new pg.Client({ connectionString: url, options: '-c search_path=message_store,public' });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    for (const category of categories) await holder.query('SELECT pg_advisory_xact_lock(hash_64($1))', [category]);
    const settled = Promise.allSettled([writers[0](), writers[1]()]);
    // Both writers are queued on an advisory lock (each on its first category) before the holder lets go.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await holder.query<{ waiting: string }>(
        "SELECT count(*) AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid <> pg_backend_pid()",
      );
      if (Number(rows[0]?.waiting) >= 2) break;
      if (Date.now() > deadline) throw new Error('the writers never queued for the category locks');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await holder.query('COMMIT');
    return await settled;
  } finally {
    await holder.end();
  }
}

describe('deadlocks between writes to two categories', () => {
  let database: TestDatabase;
  let client: MessageDbClient;
  before(async () => {
    database = await createDatabase();
    // Its own database: the pg_locks check above sees only these writers.
    client = await postgresClient({ retry: { initialDelayMs: 10 } }, database);
  });

  test('batches that deadlock are retried, and every one of them is stored once', async () => {
    const [a, b] = [randomCategory('a'), randomCategory('b')];
    const [first, second] = await deadlockOf(
      database.url,
      [a, b],
      [() => client.writeMessages(crossing(a, b, 'ab')), () => client.writeMessages(crossing(b, a, 'ba'))],
    );
    assert.equal(first.status, 'fulfilled', first.status === 'rejected' ? String(first.reason) : '');
    assert.equal(second.status, 'fulfilled', second.status === 'rejected' ? String(second.reason) : '');
    for (const category of [a, b]) {
      const tags = (await client.getCategoryMessages<{ tag: string }>(category)).map((m) => m.data.tag).sort();
      assert.deepEqual(tags, ['ab', 'ba'], `${category} holds each batch's message once`);
    }
  });

  test('in concurrent loops, the deadlocks that happen are retried: none escapes, and every batch is stored', async () => {
    const [a, b] = [randomCategory('a'), randomCategory('b')];
    // Ten messages to each category: long enough a window between the two locks that, over 15
    // rounds, the loops deadlock a few times (measured: 2-4). Until the server has counted one, the
    // loops run again (at most 4 times), so the test never passes without having met a deadlock.
    const batch = (first: string, second: string, tag: string): NewMessage[] =>
      [first, second].flatMap((category) => Array.from({ length: 10 }, (_, n) => ({ streamName: `${category}-${n}`, type: 'Crossed', data: { tag } })));
    const loop = async (first: string, second: string, tag: string): Promise<void> => {
      for (let round = 0; round < 15; round++) await client.writeMessages(batch(first, second, `${tag}${round}`));
    };
    const counted = async (): Promise<number> => {
      const [row] = await adminQuery<{ deadlocks: string }>('SELECT deadlocks FROM pg_stat_database WHERE datname = $1', [database.name]);
      return Number(row?.deadlocks ?? 0);
    };
    const before = await counted();
    let runs = 0;
    let deadlocks = 0;
    while (deadlocks === 0 && runs < 4) {
      await Promise.all([loop(a, b, 'ab'), loop(b, a, 'ba')]);
      runs++;
      // A backend reports its counts once idle, at most a second or so later.
      const deadline = Date.now() + 5000;
      for (;;) {
        deadlocks = (await counted()) - before;
        if (deadlocks > 0 || Date.now() >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    assert.ok(deadlocks > 0, 'the loops deadlocked');
    assert.equal((await client.getCategoryMessages(a, { batchSize: -1 })).length, 2 * 15 * 10 * runs);
    assert.equal((await client.getCategoryMessages(b, { batchSize: -1 })).length, 2 * 15 * 10 * runs);
  });

  test('a deadlock is a DeadlockError when retries run out', async () => {
    const once = await MessageDbClient.connect({ connectionString: database.url, retry: { maxAttempts: 1 } });
    onFileEnd(() => once.close());
    const [a, b] = [randomCategory('a'), randomCategory('b')];
    const results = await deadlockOf(database.url, [a, b], [() => once.writeMessages(crossing(a, b, 'ab')), () => once.writeMessages(crossing(b, a, 'ba'))]);
    const failed = results.filter((result) => result.status === 'rejected');
    assert.equal(failed.length, 1, 'the server rolled back one of the two');
    assert.ok(failed[0]?.reason instanceof DeadlockError, String(failed[0]?.reason));
    assert.match(failed[0].reason.message, /nothing it wrote was committed/);
    assert.equal((await once.getCategoryMessages(a)).length, 1, "only the survivor's message");
  });

  test('inside transaction() a deadlock is a DeadlockError, and the transaction is rolled back', async () => {
    const [a, b] = [randomCategory('a'), randomCategory('b')];
    const results = await deadlockOf(
      database.url,
      [a, b],
      [() => client.transaction((tx) => tx.writeMessages(crossing(a, b, 'ab'))), () => client.transaction((tx) => tx.writeMessages(crossing(b, a, 'ba')))],
    );
    const failed = results.filter((result) => result.status === 'rejected');
    assert.equal(failed.length, 1, 'one transaction was rolled back, not retried');
    assert.ok(failed[0]?.reason instanceof DeadlockError, String(failed[0]?.reason));
    assert.equal((await client.getCategoryMessages(a)).length, 1);
    assert.equal((await client.getCategoryMessages(b)).length, 1);
  });
});
