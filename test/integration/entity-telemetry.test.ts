/**
 * Entity store telemetry on both engines: spans for fetch, handle and snapshot writes (the reads and
 * writes they make are their children, so a message written by handle carries the handle's trace),
 * and metrics for handle attempts and conflicts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Registry } from 'prom-client';
import { EntityStore, TRACEPARENT, type Logger } from '../../src/index.ts';
import { engines, randomCategory } from '../support/databases.ts';

const projection = {
  Deposited: (account: { balance: number }, data: { amount: number }) => {
    account.balance += data.amount;
  },
};

describe('entity store traces', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  before(() => provider.register());
  after(() => provider.shutdown());

  for (const engine of engines) {
    test(`on ${engine.name}, fetch, handle and snapshot writes have spans, and handle's write is its child`, async () => {
      exporter.reset();
      const client = await engine.open({ tracing: provider.getTracer('test') });
      const category = randomCategory('account');
      const store = new EntityStore(client, { category, entity: () => ({ balance: 0 }), projection, snapshot: { interval: 2 } });
      await store.handle('1', () => [
        { type: 'Deposited', data: { amount: 1 } },
        { type: 'Deposited', data: { amount: 2 } },
      ]);
      await store.fetch('1');
      const spans = exporter.getFinishedSpans();
      const handle = spans.find((span) => span.name === 'messagedb entity handle');
      assert.ok(handle, `spans: ${spans.map((s) => s.name).join(', ')}`);
      assert.equal(handle.attributes['messagedb.category'], category);
      assert.equal(handle.attributes['messagedb.entity.attempts'], 1);
      assert.equal(handle.attributes['messagedb.entity.outcome'], 'written');
      const fetches = spans.filter((span) => span.name === 'messagedb entity fetch');
      assert.deepEqual(
        fetches.map((span) => [
          span.attributes['messagedb.entity.source'],
          span.attributes['messagedb.entity.projected'],
          span.attributes['messagedb.entity.version'],
        ]),
        [
          ['stream', 0, -1],
          ['stream', 2, 1],
        ],
      );
      const snapshot = spans.find((span) => span.name === 'messagedb entity snapshot');
      assert.equal(snapshot?.attributes['messagedb.stream_name'], `${category}:snapshot-1`);
      const [first] = await client.getStreamMessages(`${category}-1`);
      const traceparent = first?.metadata?.properties?.[TRACEPARENT] as string;
      assert.equal(traceparent.split('-')[1], handle.spanContext().traceId, "the written message carries the handle span's trace");
    });
  }
});

for (const engine of engines) {
  describe(`entity store metrics and logs on ${engine.name}`, () => {
    test('handle counts its outcomes and conflicts; a failed snapshot write is logged without data', async () => {
      const registry = new Registry();
      const lines: Array<[string, Record<string, unknown>, string]> = [];
      const logger: Logger = {
        debug: (fields, message) => lines.push(['debug', fields, message]),
        info: (fields, message) => lines.push(['info', fields, message]),
        warn: (fields, message) => lines.push(['warn', fields, message]),
        error: (fields, message) => lines.push(['error', fields, message]),
      };
      const client = await engine.open({ metrics: registry, logger });
      const category = randomCategory('account');
      const store = new EntityStore(client, {
        category,
        entity: () => ({ balance: 0 }),
        projection,
        snapshot: { interval: 1, toData: () => ({ secret: 'swordfish', big: 1n }) },
      });
      let interfere = true;
      await store.handle(
        '1',
        async () => {
          if (interfere) {
            interfere = false;
            await client.writeMessage({ streamName: `${category}-1`, type: 'Deposited', data: { amount: 5 } });
          }
          return { type: 'Deposited', data: { amount: 1 } };
        },
        { retryDelayMs: 1 },
      );
      await store.handle('1', () => []);
      const text = await registry.metrics();
      assert.match(text, new RegExp(`messagedb_entity_handles_total\\{category="${category}",outcome="written"\\} 1`));
      assert.match(text, new RegExp(`messagedb_entity_handles_total\\{category="${category}",outcome="nothing"\\} 1`));
      assert.match(text, new RegExp(`messagedb_entity_handle_conflicts_total\\{category="${category}"\\} 1`));
      // An empty stream is not cached: the retry reads the stream again; the second handle finds the cache.
      assert.match(text, new RegExp(`messagedb_entity_fetches_total\\{category="${category}",source="stream"\\} 2`));
      assert.match(text, new RegExp(`messagedb_entity_fetches_total\\{category="${category}",source="cache"\\} 1`));
      const failed = lines.find(([, fields]) => fields.event === 'entity_snapshot_failed');
      assert.ok(failed);
      assert.equal(failed[0], 'warn');
      assert.equal(failed[1].streamName, `${category}:snapshot-1`);
      assert.doesNotMatch(JSON.stringify(lines), /swordfish/);
    });
  });
}
