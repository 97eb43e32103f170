/**
 * Property: for random message sequences, snapshot intervals, batch sizes and cache sizes, an entity
 * fetched through snapshots and the cache equals the projection of its whole stream from scratch,
 * on PostgreSQL and on PGlite; so does one fetched by a new store (a restarted process) that starts
 * from the snapshots the first one wrote.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { EntityStore, type MessageDbClient } from '../../src/index.ts';
import { engines, randomCategory } from '../support/databases.ts';

interface Ledger {
  balance: number;
  notes: number[];
}

type Event = { type: 'Deposited' | 'Withdrawn' | 'Noted' | 'Unknown'; amount: number };

const projection = {
  Deposited: (ledger: Ledger, data: { amount: number }) => {
    ledger.balance += data.amount;
  },
  // Order matters: a doubling withdrawal does not commute with deposits.
  Withdrawn: (ledger: Ledger, data: { amount: number }): Ledger => ({ ...ledger, balance: ledger.balance * 2 - data.amount }),
  Noted: (ledger: Ledger, data: { amount: number }) => {
    ledger.notes.push(data.amount);
  },
};

/** The projection of a whole stream, in memory: what every fetch must equal. */
function fromScratch(events: readonly Event[]): { entity: Ledger; version: number } {
  let ledger: Ledger = { balance: 0, notes: [] };
  for (const event of events) {
    if (event.type === 'Unknown') continue;
    ledger = projection[event.type](ledger, { amount: event.amount }) ?? ledger;
  }
  return { entity: ledger, version: events.length - 1 };
}

const event = fc.record({ type: fc.constantFrom('Deposited', 'Withdrawn', 'Noted', 'Unknown' as const), amount: fc.integer({ min: 1, max: 100 }) });
const step = fc.record({
  id: fc.constantFrom('a', 'b', 'c'),
  events: fc.array(event, { maxLength: 7 }),
  fetch: fc.boolean(),
  restart: fc.boolean(),
});
const scenario = fc.record({
  interval: fc.integer({ min: 1, max: 8 }),
  batchSize: fc.integer({ min: 1, max: 6 }),
  maxEntries: fc.integer({ min: 1, max: 3 }),
  steps: fc.array(step, { minLength: 1, maxLength: 12 }),
});

for (const engine of engines) {
  describe(`entity store properties on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test('fetch with snapshots and the cache equals the projection from scratch', async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ interval, batchSize, maxEntries, steps }) => {
          const category = randomCategory('ledger');
          const open = () =>
            new EntityStore(client, {
              category,
              entity: (): Ledger => ({ balance: 0, notes: [] }),
              projection,
              snapshot: { interval },
              cache: { maxEntries },
              batchSize,
            });
          let store = open();
          const written = new Map<string, Event[]>();
          for (const { id, events, fetch, restart } of steps) {
            const stream = written.get(id) ?? [];
            written.set(id, stream);
            if (events.length > 0) {
              await client.writeMessages(events.map((e) => ({ streamName: `${category}-${id}`, type: e.type, data: { amount: e.amount } })));
              stream.push(...events);
            }
            if (restart) store = open();
            if (fetch) assert.deepEqual(await store.fetch(id), fromScratch(stream), `${id} after ${stream.length} events`);
          }
          for (const [id, stream] of written) {
            assert.deepEqual(await store.fetch(id), fromScratch(stream));
            assert.deepEqual(await open().fetch(id), fromScratch(stream), `${id} from its snapshot`);
          }
        }),
        { numRuns: 25 },
      );
    });
  });
}
