/**
 * Abort and close in every state, property-based (fast-check), on PostgreSQL and PGlite: random
 * interleavings of writes, reads and transactions, some aborted after a random delay, and close()
 * at random points, on a small pool (half the PostgreSQL runs with the category locked, so calls
 * queue behind writes that wait). Every call settles, with its result, AbortError or ClosedError.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { MessageDbClient, isAbortError, isClosedError } from '../../src/index.ts';
import { holdCategoryLock } from '../support/category-lock.ts';
import { createDatabase, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';

type Step = { kind: 'write' | 'read' | 'transaction'; abortAfterMs: number | null } | { kind: 'close' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom('write' as const, 'read' as const, 'transaction' as const),
      abortAfterMs: fc.option(fc.integer({ min: 0, max: 30 })),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
);

/** Run `steps` on `client`; resolves with how each call settled ('value' or its error), or 'pending' after 5 s. */
async function interleave(client: MessageDbClient, category: string, steps: Step[]): Promise<unknown[] | 'pending'> {
  const calls: Promise<unknown>[] = [];
  const streamName = `${category}-1`;
  for (const [index, current] of steps.entries()) {
    if (current.kind === 'close') {
      calls.push(
        client.close().then(
          () => 'value',
          (error: unknown) => error,
        ),
      );
      continue;
    }
    const controller = new AbortController();
    const { signal } = controller;
    if (current.abortAfterMs !== null) setTimeout(() => controller.abort(), current.abortAfterMs);
    const call =
      current.kind === 'write'
        ? client.writeMessage({ streamName, type: `Step${index}` }, { signal })
        : current.kind === 'read'
          ? client.getStreamMessages(streamName, { signal })
          : client.transaction((tx) => tx.writeMessage({ streamName, type: `Step${index}` }), { signal });
    calls.push(
      call.then(
        () => 'value',
        (error: unknown) => error,
      ),
    );
    // The next call starts a little later: some of the earlier ones are running by then.
    await new Promise((resolve) => setImmediate(resolve));
  }
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), 5000)));
  return Promise.race([Promise.all(calls), guard]).finally(() => clearTimeout(timer));
}

/** `work`, or 'pending' when it has not settled after 5 s. */
async function within5s<T>(work: Promise<T>): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), 5000)));
  return Promise.race([work, guard]).finally(() => clearTimeout(timer));
}

function assertSettled(outcomes: unknown[] | 'pending'): void {
  assert.notEqual(outcomes, 'pending', 'a call was still pending after 5 s');
  for (const outcome of outcomes as unknown[]) {
    assert.ok(outcome === 'value' || isAbortError(outcome) || isClosedError(outcome), `settled with ${String(outcome)}`);
  }
}

const steps = fc.array(step, { minLength: 1, maxLength: 25 });

describe('every call settles, whatever the interleaving of calls, aborts and close (fast-check)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
    await postgresClient({}, database);
  });

  test('on postgres, with a pool of 2: each call settles within 5 s with its result, AbortError or ClosedError', async () => {
    await fc.assert(
      fc.asyncProperty(steps, fc.boolean(), async (generated, lockFirst) => {
        const category = randomCategory();
        const client = await MessageDbClient.connect({ connectionString: database.url, maxPoolSize: 2, connectTimeoutMs: 20_000 });
        const lock = lockFirst ? await holdCategoryLock(database.url, category) : undefined;
        let released: Promise<void> | undefined;
        const releaseLock = (): Promise<void> | undefined => (released ??= lock?.release());
        const release = setTimeout(() => void releaseLock(), 40);
        const outcomes = await interleave(client, category, generated);
        clearTimeout(release);
        await releaseLock();
        assert.notEqual(await within5s(client.close()), 'pending', 'close() was still pending after 5 s');
        assertSettled(outcomes);
      }),
      { numRuns: 25 },
    );
  });

  test('on PGlite: each call settles within 5 s with its result, AbortError or ClosedError', async () => {
    await fc.assert(
      fc.asyncProperty(steps, async (generated) => {
        const client = await MessageDbClient.embedded();
        const outcomes = await interleave(client, randomCategory(), generated);
        assert.notEqual(await within5s(client.close()), 'pending', 'close() was still pending after 5 s');
        assertSettled(outcomes);
      }),
      // Each run opens a PGlite of its own (about 2 s).
      { numRuns: 6 },
    );
  });
});
