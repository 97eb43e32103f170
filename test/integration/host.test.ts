/**
 * The component host in-process on a real server: its failure policies (stop every component, or
 * restart the failed one with the package's backoff), its HTTP endpoint (liveness, readiness and
 * metrics), its abort signal, and its refusals of bad input. Its signals are test/integration/host-signals.test.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ClosedError, Consumer, ConsumerError, HandlerError, InvalidArgumentError, MessageDbClient, createHost, type HostComponent } from '../../src/index.ts';
import { createDatabase, onFileEnd, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { Handled, eventually, recordedPositions } from '../support/consumer-support.ts';
import { sample } from '../support/metrics-text.ts';

/** A component that fails its first `failures` runs and then runs until stopped; notes when each run began. */
function flakyComponent(failures: number): HostComponent & { starts: number[] } {
  const starts: number[] = [];
  return {
    name: 'flaky',
    starts,
    start({ signal }) {
      starts.push(performance.now());
      if (starts.length <= failures) return Promise.reject(new Error(`run ${starts.length} failed`));
      return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    },
  };
}

describe('component host (real server)', () => {
  let database: TestDatabase;
  let client: MessageDbClient;
  before(async () => {
    database = await createDatabase();
    client = await postgresClient({}, database);
  });

  test("under 'stop-all', a failing consumer stops the others (each records its position) and start() rejects with its error", async () => {
    const category = randomCategory('hostStopAll');
    const errors: string[] = [];
    const handled = new Handled();
    const healthy = new Consumer(client, { category, identifier: 'healthy', pollIntervalMs: 50 }).onAny((message) => handled.add(message));
    const failing = new Consumer(client, { category, identifier: 'failing', pollIntervalMs: 50 }).onAny((message) => {
      if (message.type === 'Poison') throw new Error('poisoned');
    });
    const host = createHost({ signals: false, onError: (_, name) => errors.push(name) })
      .add(healthy)
      .add(failing);
    const running = host.start();
    await client.writeMessage({ streamName: `${category}-1`, type: 'Fine' });
    await handled.count(1);
    const poison = await client.writeMessage({ streamName: `${category}-1`, type: 'Poison' });
    assert.equal(poison, 1);
    await assert.rejects(running, HandlerError);
    assert.deepEqual(errors, [failing.positionStreamName]);
    assert.equal(host.state, 'failed');
    assert.deepEqual(
      host.components().map(({ name, state }) => [name, state]),
      [
        [healthy.positionStreamName, 'stopped'],
        [failing.positionStreamName, 'failed'],
      ],
    );
    assert.equal(healthy.state, 'stopped');
    // The healthy consumer may or may not have reached the poison message before it was stopped.
    const last = handled.globalPositions.at(-1);
    assert.deepEqual((await recordedPositions(client, healthy.positionStreamName)).at(-1), last);
  });

  test("under 'restart', a failing component is started again after the package's backoff, each wait at least half of a doubling delay", async () => {
    const component = flakyComponent(3);
    const errors: string[] = [];
    const host = createHost({
      signals: false,
      onFailure: 'restart',
      retry: { initialDelayMs: 100, maxDelayMs: 400 },
      onError: (error) => errors.push(String(error)),
    });
    host.add(component);
    const running = host.start();
    await eventually(async () => host.components()[0]?.state === 'running' && component.starts.length === 4, 'the fourth run is running');
    assert.equal(host.components()[0]?.restarts, 3);
    assert.deepEqual(errors, ['Error: run 1 failed', 'Error: run 2 failed', 'Error: run 3 failed']);
    const waits = component.starts.slice(1).map((start, index) => start - (component.starts[index] as number));
    // Equal jitter waits between half the delay and all of it: 100, 200, 400 ms.
    for (const [index, least] of [50, 100, 200].entries()) assert.ok((waits[index] as number) >= least - 5, `wait ${index + 1} was ${waits[index]} ms`);
    assert.ok(host.ready);
    await host.stop();
    await running;
    assert.equal(host.state, 'stopped');
  });

  test("under 'restart', a consumer whose handler fails twice resumes from its recorded position and handles every message", async () => {
    const category = randomCategory('hostRestart');
    let failures = 0;
    const handled = new Handled();
    const consumer = new Consumer(client, { category, identifier: 'w', pollIntervalMs: 50 }).onAny((message) => {
      if (message.type === 'Flaky' && failures < 2) {
        failures++;
        throw new Error('not yet');
      }
      handled.add(message);
    });
    const host = createHost({ signals: false, onFailure: 'restart', retry: { initialDelayMs: 20, maxDelayMs: 50 } }).add(consumer);
    const running = host.start();
    await client.writeMessages([
      { streamName: `${category}-1`, type: 'Fine' },
      { streamName: `${category}-1`, type: 'Flaky' },
      { streamName: `${category}-2`, type: 'Fine' },
    ]);
    const head = await client.categoryHead(category);
    await handled.through(head);
    assert.equal(host.components()[0]?.restarts, 2);
    // The message before the failing one may be handled again after a restart (at-least-once); none is skipped.
    assert.deepEqual([...new Set(handled.messages.map((message) => message.type))].sort(), ['Fine', 'Flaky']);
    assert.ok(new Set(handled.globalPositions).size === 3);
    await host.stop();
    await running;
    assert.equal((await recordedPositions(client, consumer.positionStreamName)).at(-1), head);
  });

  test('a closed client fails the host even under restart: nothing is restarted on a client that cannot work again', async () => {
    const own = await MessageDbClient.connect(database.url);
    const consumer = new Consumer(own, { category: randomCategory('hostClosed'), pollIntervalMs: 20 });
    consumer.onAny(() => {});
    const host = createHost({ signals: false, onFailure: 'restart', retry: { initialDelayMs: 10, maxDelayMs: 20 } }).add(consumer);
    const running = host.start();
    await eventually(async () => consumer.state === 'live', 'the consumer is live');
    await own.close();
    await assert.rejects(running, ClosedError);
    assert.equal(host.components()[0]?.restarts, 0);
  });

  test('the endpoint answers /health, /ready (503 until every consumer is live) and /metrics with the host gauges and the client metrics, and closes on stop', async () => {
    const metered = await MessageDbClient.connect({ connectionString: database.url, metrics: true });
    onFileEnd(() => metered.close());
    const consumer = new Consumer(metered, { category: randomCategory('hostHttp'), identifier: 'probe', pollIntervalMs: 50 }).onAny(() => {});
    const host = createHost({ signals: false, http: { port: 0, host: '127.0.0.1', metrics: metered.metrics() } }).add(consumer);
    const running = host.start();
    await eventually(async () => host.port !== undefined, 'the endpoint listens');
    const base = `http://127.0.0.1:${host.port}`;
    assert.equal((await fetch(`${base}/health`)).status, 200);
    await eventually(async () => (await fetch(`${base}/ready`)).status === 200, 'the host is ready');
    const ready = (await (await fetch(`${base}/ready`)).json()) as { state: string; components: Array<{ name: string; ready: boolean }> };
    assert.deepEqual(ready, { state: 'running', components: [{ name: consumer.positionStreamName, state: 'running', ready: true, restarts: 0 }] });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.equal(sample(metrics, 'messagedb_host_component_ready', { component: consumer.positionStreamName }), 1);
    assert.equal(sample(metrics, 'messagedb_host_component_restarts', { component: consumer.positionStreamName }), 0);
    assert.ok((sample(metrics, 'messagedb_reads_total', { kind: 'category', outcome: 'ok' }) ?? 0) > 0, 'the client metrics are served too');
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
    await host.pause();
    assert.equal((await fetch(`${base}/ready`)).status, 503);
    await host.resume();
    await host.stop();
    await running;
    await assert.rejects(fetch(`${base}/health`), 'the endpoint is closed');
  });

  test('start({ signal }) stops on abort; stop() settles in every state; a host starts once', async () => {
    const component = flakyComponent(0);
    const host = createHost({ signals: false }).add(component);
    await host.pause();
    await host.resume();
    const controller = new AbortController();
    const running = host.start({ signal: controller.signal });
    await assert.rejects(host.start(), ConsumerError);
    await eventually(async () => host.ready, 'the component runs');
    controller.abort();
    await running;
    assert.equal(host.state, 'stopped');
    await host.stop();
    await host.stop();
    const aborted = createHost({ signals: false }).add(flakyComponent(0));
    await aborted.start({ signal: AbortSignal.abort() });
    assert.equal(aborted.state, 'stopped');
    const never = createHost({ signals: false });
    await never.stop();
    await assert.rejects(never.start(), ConsumerError);
  });

  test('a port already taken fails start() with the listen error, and no component is started', async () => {
    const first = createHost({ signals: false, http: { port: 0, host: '127.0.0.1' } }).add(flakyComponent(0));
    const running = first.start();
    await eventually(async () => first.port !== undefined, 'the first endpoint listens');
    const component = flakyComponent(0);
    const second = createHost({ signals: false, http: { port: first.port as number, host: '127.0.0.1' } }).add(component);
    await assert.rejects(second.start(), /EADDRINUSE/);
    assert.equal(second.state, 'failed');
    assert.equal(component.starts.length, 0);
    await first.stop();
    await running;
  });

  test('bad input is refused with a typed error naming it, before anything runs', async () => {
    assert.throws(() => createHost({ onFailure: 'sometimes' as never }), InvalidArgumentError);
    assert.throws(() => createHost({ http: { port: 70_000 } }), /http\.port/);
    assert.throws(() => createHost({ retry: { initialDelayMs: 0 } }), /retry\.initialDelayMs/);
    assert.throws(() => createHost({ stopTimeoutMs: -1 }), /stopTimeoutMs/);
    assert.throws(() => createHost().add({} as never), InvalidArgumentError);
    const host = createHost({ signals: false }).add(flakyComponent(0));
    assert.throws(() => host.add(flakyComponent(0)), /unique/);
    await assert.rejects(createHost().start(), /add\(\) them/);
    await assert.rejects(host.start({ signal: 'no' as never }), InvalidArgumentError);
  });
});
