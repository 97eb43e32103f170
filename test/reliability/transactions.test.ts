/**
 * Transactions on both engines: an abort mid-callback rolls back, at once; your own SQL runs on the
 * transaction's connection (`tx.query`) and commits or rolls back with its messages; on PGlite (one
 * connection), a call on the client inside its own transaction fails at once with
 * WouldDeadlockError, while calls from elsewhere wait their turn.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { AbortError, InvalidArgumentError, WouldDeadlockError, isAbortError, type MessageDbClient } from '../../src/index.ts';
import { engines, pgliteClient, randomCategory } from '../support/databases.ts';

/** Rejects with 'pending' after `ms`, so a hang fails the test instead of stalling it. */
function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([work, guard]).finally(() => clearTimeout(timer));
}

/** A table of the test's own, made through a committed transaction's `tx.query`. */
async function ownTable(client: MessageDbClient): Promise<string> {
  const table = `own_${randomBytes(6).toString('hex')}`;
  await client.transaction((tx) => tx.query(`CREATE TABLE public.${table} (id text PRIMARY KEY, amount bigint, note text)`));
  return table;
}

for (const engine of engines) {
  describe(`transactions on ${engine.name}`, () => {
    test('an abort mid-callback rejects the transaction with AbortError at once, rolls it back, and fails the later statements', async () => {
      const client = await engine.open();
      const streamName = `${randomCategory()}-1`;
      const controller = new AbortController();
      let later: unknown;
      let callbackDone: () => void = () => {};
      const callbackFinished = new Promise<void>((resolve) => (callbackDone = resolve));
      const transaction = client
        .transaction(
          async (tx) => {
            await tx.writeMessage({ streamName, type: 'Before' });
            controller.abort();
            // The callback carries on after the abort, as application code awaiting something else would.
            later = await tx.writeMessage({ streamName, type: 'After' }).catch((error: unknown) => error);
            callbackDone();
          },
          { signal: controller.signal },
        )
        .then(
          () => 'committed',
          (error: unknown) => error,
        );
      const outcome = await within(transaction, 5000);
      assert.ok(outcome instanceof AbortError, String(outcome));
      await within(callbackFinished, 5000);
      assert.ok(isAbortError(later), `the statement after the abort: ${String(later)}`);
      assert.equal(await client.streamVersion(streamName), -1, 'nothing was committed');
      assert.deepEqual(await client.getStreamMessages(streamName), []);
    });

    test('an abort while the callback awaits something else settles the transaction at once and commits nothing', async () => {
      const client = await engine.open();
      const streamName = `${randomCategory()}-1`;
      const controller = new AbortController();
      let wrote: () => void = () => {};
      const written = new Promise<void>((resolve) => (wrote = resolve));
      const transaction = client
        .transaction(
          async (tx) => {
            await tx.writeMessage({ streamName, type: 'Before' });
            wrote();
            // Never settles: only the abort ends this transaction.
            await new Promise(() => {});
          },
          { signal: controller.signal },
        )
        .then(
          () => 'committed',
          (error: unknown) => error,
        );
      await written;
      const abortedAt = performance.now();
      controller.abort();
      const outcome = await within(transaction, 5000);
      assert.ok(outcome instanceof AbortError, String(outcome));
      assert.ok(performance.now() - abortedAt < 1000, 'settled within a second of abort()');
      assert.equal(await client.streamVersion(streamName), -1, 'nothing was committed');
      assert.equal(await client.writeMessage({ streamName, type: 'Later' }), 0, 'the client still works');
    });

    test('tx.query runs your own SQL in the transaction: rows as objects of column text, rolled back and committed with the messages', async () => {
      const client = await engine.open();
      const table = await ownTable(client);
      const streamName = `${randomCategory()}-1`;
      const failure = new Error('the callback failed');
      const rolledBack = await client
        .transaction(async (tx) => {
          await tx.writeMessage({ streamName, type: 'Deposited', data: { amount: 10 } });
          await tx.query(`INSERT INTO public.${table} (id, amount, note) VALUES ($1, $2, $3)`, [streamName, 10, null]);
          const rows = await tx.query(`SELECT id, amount, note, amount * 2 AS doubled FROM public.${table} WHERE id = $1`, [streamName]);
          assert.deepEqual(rows, [{ id: streamName, amount: '10', note: null, doubled: '20' }], 'the insert is visible inside the transaction');
          throw failure;
        })
        .catch((error: unknown) => error);
      assert.equal(rolledBack, failure);
      assert.equal(await client.streamVersion(streamName), -1, 'the message was rolled back');
      assert.deepEqual(await client.transaction((tx) => tx.query(`SELECT id FROM public.${table}`)), [], 'the row was rolled back');

      await client.transaction(async (tx) => {
        await tx.writeMessage({ streamName, type: 'Deposited', data: { amount: 10 } });
        await tx.query(`INSERT INTO public.${table} (id, amount) VALUES ($1, $2)`, [streamName, 10]);
      });
      assert.equal(await client.streamVersion(streamName), 0);
      const rows = await client.transaction((tx) => tx.query(`SELECT id, amount FROM public.${table}`));
      assert.deepEqual(rows, [{ id: streamName, amount: '10' }]);
    });

    test('tx.query refuses params that are not an array, before any SQL runs', async () => {
      const client = await engine.open();
      const table = await ownTable(client);
      const refusal = await client
        .transaction((tx) => tx.query(`INSERT INTO public.${table} (id) VALUES ($1)`, 'x' as unknown as unknown[]))
        .catch((error: unknown) => error);
      assert.ok(refusal instanceof InvalidArgumentError, String(refusal));
      assert.equal(refusal.argument, 'params');
      assert.deepEqual(await client.transaction((tx) => tx.query(`SELECT id FROM public.${table}`)), []);
    });
  });
}

describe('the client inside its own transaction on PGlite', () => {
  test('fails at once with WouldDeadlockError, and the transaction can still commit through tx', async () => {
    const client = await pgliteClient();
    const streamName = `${randomCategory()}-1`;
    const position = await within(
      client.transaction(async (tx) => {
        const reentry = await client.writeMessage({ streamName, type: 'Inner' }).catch((error: unknown) => error);
        assert.ok(reentry instanceof WouldDeadlockError, String(reentry));
        const nested = await client.transaction(async () => 'never').catch((error: unknown) => error);
        assert.ok(nested instanceof WouldDeadlockError, String(nested));
        return tx.writeMessage({ streamName, type: 'Outer' });
      }),
      5000,
    );
    assert.equal(position, 0);
    assert.deepEqual(
      (await client.getStreamMessages(streamName)).map((message) => message.type),
      ['Outer'],
    );
  });

  test('a call from outside the transaction waits its turn and then runs', async () => {
    const client = await pgliteClient();
    const streamName = `${randomCategory()}-1`;
    let started: () => void = () => {};
    const transactionStarted = new Promise<void>((resolve) => (started = resolve));
    let finish: () => void = () => {};
    const finishTransaction = new Promise<void>((resolve) => (finish = resolve));
    const transaction = client.transaction(async (tx) => {
      await tx.writeMessage({ streamName, type: 'Inside' });
      started();
      await finishTransaction;
    });
    await transactionStarted;
    // From this test's own context, not the callback's: it queues behind the transaction.
    const outside = client.writeMessage({ streamName, type: 'Outside' });
    finish();
    await within(transaction, 5000);
    assert.equal(await within(outside, 5000), 1, 'written after the transaction committed');
  });
});
