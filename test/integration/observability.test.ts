/**
 * Metrics on a real prom-client registry, spans on a real OpenTelemetry SDK with its in-memory
 * exporter, and log lines through a real pino logger, after known operations on both engines.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Consumer, ExpectedVersionError, MessageDbClient, TRACEPARENT } from '../../src/index.ts';
import { createDatabase, engines, onFileEnd, postgresClient, randomCategory, randomStreamName } from '../support/databases.ts';
import { sample } from '../support/metrics-text.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

for (const engine of engines) {
  describe(`metrics on ${engine.name}`, () => {
    test('writes, reads and errors are counted exactly and their durations fill the histograms', async () => {
      const registry = new Registry();
      const client = await engine.open({ metrics: registry });
      const category = randomCategory();
      const stream = `${category}-1`;
      for (let i = 0; i < 3; i++) await client.writeMessage({ streamName: stream, type: 'Deposited', data: { i } });
      await assert.rejects(client.writeMessage({ streamName: stream, type: 'Late', expectedVersion: 0 }), ExpectedVersionError);
      await client.writeMessages(Array.from({ length: 5 }, (_, i) => ({ streamName: `${category}-2`, type: 'Batched', data: { i } })));
      assert.equal((await client.getCategoryMessages(category)).length, 8);
      assert.equal((await client.getStreamMessages(stream, { batchSize: 2 })).length, 2);
      const text = await registry.metrics();

      assert.equal(sample(text, 'messagedb_writes_total', { kind: 'single', outcome: 'ok' }), 3);
      assert.equal(sample(text, 'messagedb_writes_total', { kind: 'single', outcome: 'expected_version' }), 1);
      assert.equal(sample(text, 'messagedb_writes_total', { kind: 'batch', outcome: 'ok' }), 1);
      assert.equal(sample(text, 'messagedb_messages_written_total'), 8);
      assert.equal(sample(text, 'messagedb_expected_version_errors_total'), 1);
      assert.equal(sample(text, 'messagedb_reads_total', { kind: 'category', outcome: 'ok' }), 1);
      assert.equal(sample(text, 'messagedb_reads_total', { kind: 'stream', outcome: 'ok' }), 1);
      assert.equal(sample(text, 'messagedb_messages_read_total', { kind: 'category' }), 8);
      assert.equal(sample(text, 'messagedb_messages_read_total', { kind: 'stream' }), 2);
      assert.equal(sample(text, 'messagedb_write_duration_seconds_count', { kind: 'single', outcome: 'ok' }), 3);
      assert.equal(sample(text, 'messagedb_write_duration_seconds_bucket', { le: '+Inf', kind: 'single', outcome: 'ok' }), 3);
      assert.ok((sample(text, 'messagedb_write_duration_seconds_sum', { kind: 'single', outcome: 'ok' }) ?? 0) > 0);
      assert.equal(sample(text, 'messagedb_read_duration_seconds_count', { kind: 'category' }), 1);
      assert.doesNotMatch(text, new RegExp(category), 'no stream or category name in any label');
      assert.equal(sample(text, 'messagedb_pool_connections'), client.poolStats().total);
    });

    // Updates wait in a queue until a scrape or 512 of them (src/telemetry/metrics.ts): every
    // scrape must still see every update made before it, however many and from however many clients.
    test('each scrape sees every update before it: across the queue limit, two clients on one registry, metric.get()', async () => {
      const registry = new Registry();
      const first = await engine.open({ metrics: registry });
      const second = await engine.open({ metrics: registry });
      const stream = randomStreamName();
      const reads = async (client: MessageDbClient, count: number): Promise<void> => {
        for (let i = 0; i < count; i++) await client.streamVersion(stream);
      };
      await reads(first, 3);
      assert.equal(sample(await registry.metrics(), 'messagedb_reads_total', { kind: 'version', outcome: 'ok' }), 3);
      await reads(first, 700);
      await reads(second, 300);
      const text = await registry.metrics();
      assert.equal(sample(text, 'messagedb_reads_total', { kind: 'version', outcome: 'ok' }), 1003);
      assert.equal(sample(text, 'messagedb_read_duration_seconds_count', { kind: 'version' }), 1003);
      assert.equal(sample(text, 'messagedb_read_duration_seconds_bucket', { le: '+Inf', kind: 'version' }), 1003);
      await reads(second, 2);
      const counter = registry.getSingleMetric('messagedb_reads_total');
      const values = (await counter?.get())?.values ?? [];
      assert.equal(values.find((v) => v.labels.kind === 'version' && v.labels.outcome === 'ok')?.value, 1005);
    });

    test("client.metrics() returns the client's own registry with metrics: true", async () => {
      const client = await engine.open({ metrics: true });
      await client.writeMessage({ streamName: randomStreamName(), type: 'T' });
      const text = await client.metrics().metrics();
      assert.equal(sample(text, 'messagedb_writes_total', { kind: 'single', outcome: 'ok' }), 1);
    });
  });
}

describe('pool metrics on postgres', () => {
  test('waits for a pooled connection are observed and the saturation gauge reads busy over max', async () => {
    const registry = new Registry();
    const database = await createDatabase();
    await postgresClient({}, database);
    const client = await MessageDbClient.connect({ connectionString: database.url, maxPoolSize: 2, metrics: registry });
    onFileEnd(() => client.close());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding = client.transaction(() => held);
    while (!(client.poolStats().total === 1 && client.poolStats().idle === 0)) await new Promise((resolve) => setImmediate(resolve));
    const during = await registry.metrics();
    assert.equal(sample(during, 'messagedb_pool_saturation'), 0.5);
    release();
    await holding;
    await client.getCategoryMessages(randomCategory());
    const text = await registry.metrics();
    assert.ok((sample(text, 'messagedb_pool_acquire_wait_seconds_count') ?? 0) >= 3);
  });

  test('connection faults and retries are counted', async () => {
    const registry = new Registry();
    const database = await createDatabase();
    await postgresClient({}, database);
    const target = new URL(database.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    onFileEnd(() => proxy.close());
    target.hostname = '127.0.0.1';
    target.port = String(proxy.port);
    const client = await MessageDbClient.connect({ connectionString: target.toString(), metrics: registry, retry: { initialDelayMs: 5 } });
    onFileEnd(() => client.close());
    proxy.cutAfterNextReply();
    await client.writeMessage({ streamName: randomStreamName(), type: 'T' });
    const text = await registry.metrics();
    assert.equal(sample(text, 'messagedb_connection_errors_total'), 1);
    assert.equal(sample(text, 'messagedb_retries_total'), 1);
    assert.equal(sample(text, 'messagedb_writes_total', { kind: 'single', outcome: 'ok' }), 1);
  });
});

describe('traces', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  before(() => provider.register());
  after(() => provider.shutdown());

  for (const engine of engines) {
    test(`on ${engine.name}, a write has a span with database attributes, and its traceparent travels in the message`, async () => {
      exporter.reset();
      const client = await engine.open({ tracing: provider.getTracer('test') });
      const stream = randomStreamName();
      await client.writeMessage({ streamName: stream, type: 'Opened', metadata: { properties: { other: 1 } } });
      const message = await client.getLastStreamMessage(stream);
      const spans = exporter.getFinishedSpans();
      const write = spans.find((span) => span.name === 'messagedb write');
      assert.ok(write, `spans: ${spans.map((s) => s.name).join(', ')}`);
      assert.equal(write.attributes['db.system'], 'postgresql');
      assert.equal(write.attributes['db.operation.name'], 'write_message');
      assert.equal(write.attributes['messagedb.stream_name'], stream);
      const { traceId, spanId } = write.spanContext();
      assert.equal(message?.metadata?.properties?.[TRACEPARENT], `00-${traceId}-${spanId}-01`);
      assert.equal(message?.metadata?.properties?.other, 1);
      assert.ok(spans.some((span) => span.name === 'messagedb read last'));
    });

    test(`on ${engine.name}, a batch write's span marks errors`, async () => {
      exporter.reset();
      const client = await engine.open({ tracing: true });
      const stream = randomStreamName();
      await assert.rejects(client.writeMessages([{ streamName: stream, type: 'A' }], { expectedVersion: 3 }));
      const span = exporter.getFinishedSpans().find((s) => s.name === 'messagedb write batch');
      assert.equal(span?.status.code, 2);
    });
  }
});

describe('logging', () => {
  test('a pino logger receives structured lines, and no line holds the password', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'debug' }, destination);
    const database = await createDatabase();
    await postgresClient({}, database);
    const url = new URL(database.url);
    const password = url.password;
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    onFileEnd(() => proxy.close());
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const client = await MessageDbClient.connect({ connectionString: url.toString(), logger, retry: { initialDelayMs: 5 } });
    onFileEnd(() => client.close());
    await client.install();
    const stream = randomStreamName();
    await client.writeMessage({ streamName: stream, type: 'T', data: { secret: 'payload-value' } });
    await assert.rejects(client.writeMessage({ streamName: stream, type: 'T', expectedVersion: 7 }));
    proxy.cutAfterNextReply();
    await client.getStreamMessages(stream);
    const failing = await MessageDbClient.connect({
      connectionString: url.toString().replace(/@127\.0\.0\.1:\d+/, '@127.0.0.1:1'),
      logger,
      connectTimeoutMs: 500,
    }).catch((e: unknown) => e);
    assert.ok(failing instanceof Error);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(records.some((r) => r.event === 'install'));
    assert.ok(records.some((r) => r.op === 'write' && r.outcome === 'expected_version'));
    assert.ok(records.some((r) => r.event === 'connection_fault' && r.retrying === true));
    const all = lines.join('\n');
    if (password) assert.ok(!all.includes(password), 'password absent from logs');
    assert.ok(!all.includes('payload-value'), 'message data absent from logs');
    assert.ok(!String(failing).includes(password || '\u0000'));
  });
});

describe('consumer telemetry', () => {
  for (const engine of engines) {
    test(`on ${engine.name}, handled count, position, lag and position writes are exact`, async () => {
      const registry = new Registry();
      const client = await engine.open({ metrics: registry });
      const category = randomCategory();
      await client.writeMessages(Array.from({ length: 10 }, (_, i) => ({ streamName: `${category}-${i % 3}`, type: 'Counted' })));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let blocked!: () => void;
      const reachedGate = new Promise<void>((resolve) => (blocked = resolve));
      let seen = 0;
      const consumer = new Consumer(client, { category, identifier: 'metrics', positionUpdateInterval: 5 }).on('Counted', async () => {
        seen++;
        if (seen === 11) {
          blocked();
          await gate;
        }
      });
      const running = consumer.start();
      const written = await client.writeMessages(Array.from({ length: 5 }, () => ({ streamName: `${category}-9`, type: 'Counted' })));
      assert.equal(written.length, 5);
      await reachedGate;
      const text = await registry.metrics();
      const labels = { category, identifier: 'metrics' };
      const stats = await consumer.stats();
      assert.equal(sample(text, 'messagedb_consumer_handled_total', labels), 10);
      assert.equal(sample(text, 'messagedb_consumer_position', labels), stats.position);
      assert.equal(sample(text, 'messagedb_consumer_lag', labels), (stats.categoryHead ?? 0) - (stats.position ?? 0));
      // Lag is in global positions: the 5 unhandled messages, plus any position records written between them.
      assert.ok((sample(text, 'messagedb_consumer_lag', labels) ?? 0) >= 5);
      assert.equal(sample(text, 'messagedb_consumer_position_writes_total', labels), 2);
      assert.equal(sample(text, 'messagedb_consumer_handler_duration_seconds_count', labels), 10);
      release();
      await consumer.stop();
      await running;
    });
  }

  test('a handled message continues the trace of the write that produced it', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const client = await engines[0]!.open({ tracing: provider.getTracer('test') });
    const category = randomCategory();
    await client.writeMessage({ streamName: `${category}-1`, type: 'Traced' });
    let handled!: () => void;
    const done = new Promise<void>((resolve) => (handled = resolve));
    const consumer = new Consumer(client, { category, identifier: 'trace' }).on('Traced', async () => handled());
    const running = consumer.start();
    await done;
    await consumer.stop();
    await running;
    const spans = exporter.getFinishedSpans();
    const write = spans.find((span) => span.name === 'messagedb write');
    const handle = spans.find((span) => span.name === 'messagedb handle Traced');
    assert.ok(write && handle, spans.map((s) => s.name).join(', '));
    assert.equal(handle.spanContext().traceId, write.spanContext().traceId);
    assert.equal(handle.parentSpanContext?.spanId, write.spanContext().spanId);
    await provider.shutdown();
  });
});
