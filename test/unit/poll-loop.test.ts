/**
 * The poll loop driven by injected functions: no database, no SQL.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionError } from '../../src/vocabulary/errors.ts';
import { PollLoop, type ConsumerState, type PollLoopConfig } from '../../src/consumer/poll-loop.ts';

interface Item {
  globalPosition: number;
}

/** A category of `count` items at global positions 1..count, read in batches like the server does. */
function category(count: number): Item[] {
  return Array.from({ length: count }, (_, index) => ({ globalPosition: index + 1 }));
}

function read(items: Item[], position: number, batchSize: number): Item[] {
  return items.filter((item) => item.globalPosition >= position).slice(0, batchSize);
}

/** A resolvable promise, to wait on events instead of time. */
function signalled<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function loopConfig(overrides: Partial<PollLoopConfig<Item>>): PollLoopConfig<Item> {
  return {
    start: async () => 1,
    fetch: async () => [],
    dispatch: async () => {},
    nextPosition: (item) => item.globalPosition + 1,
    idle: async () => {},
    finish: async () => {},
    batchSize: 10,
    pollIntervalMs: 60_000,
    isTransient: (error) => error instanceof ConnectionError,
    retryDelayMs: () => 1,
    ...overrides,
  };
}

describe('poll loop', () => {
  test('a full batch is read again at once, and reads continue from the position after the last item', async () => {
    const items = category(35);
    const positions: number[] = [];
    const caughtUp = signalled();
    const loop = new PollLoop<Item>(
      loopConfig({
        fetch: async (position) => {
          positions.push(position);
          return read(items, position, 10);
        },
        idle: async () => caughtUp.resolve(),
      }),
    );
    const running = loop.run();
    // pollIntervalMs is a minute: reaching the head this soon proves no read waited.
    await caughtUp.promise;
    assert.deepEqual(positions, [1, 11, 21, 31, 36]);
    await loop.stop();
    await running;
  });

  test('an empty batch waits pollIntervalMs before the next read: no busy loop', async () => {
    let reads = 0;
    const loop = new PollLoop<Item>(
      loopConfig({
        pollIntervalMs: 100,
        fetch: async () => {
          reads++;
          return [];
        },
      }),
    );
    const running = loop.run();
    await new Promise((resolve) => setTimeout(resolve, 450));
    await loop.stop();
    await running;
    assert.ok(reads >= 3 && reads <= 6, `${reads} reads in 450 ms at one per 100 ms`);
  });

  test('starts at the position start() returns', async () => {
    const items = category(20);
    const dispatched: number[] = [];
    const caughtUp = signalled();
    const loop = new PollLoop<Item>(
      loopConfig({
        start: async () => 17,
        fetch: async (position) => read(items, position, 10),
        dispatch: async (batch) => void dispatched.push(...batch.map((item) => item.globalPosition)),
        idle: async () => caughtUp.resolve(),
      }),
    );
    const running = loop.run();
    await caughtUp.promise;
    assert.deepEqual(dispatched, [17, 18, 19, 20]);
    await loop.stop();
    await running;
  });

  test('state goes starting, catching up on a full batch, live at the head, then stopping and stopped', async () => {
    const items = category(15);
    const states: ConsumerState[] = [];
    const caughtUp = signalled();
    const loop = new PollLoop<Item>(
      loopConfig({
        fetch: async (position) => read(items, position, 10),
        idle: async () => caughtUp.resolve(),
        onState: (state) => states.push(state),
      }),
    );
    assert.equal(loop.state, 'starting');
    const running = loop.run();
    await caughtUp.promise;
    await loop.stop();
    await running;
    assert.deepEqual(states, ['catching up', 'live', 'stopping', 'stopped']);
  });

  test('stop() ends the poll wait at once and runs finish', async () => {
    const idle = signalled();
    let finished = false;
    const loop = new PollLoop<Item>(
      loopConfig({
        idle: async () => idle.resolve(),
        finish: async (failure) => {
          assert.equal(failure, undefined);
          finished = true;
        },
      }),
    );
    const running = loop.run();
    await idle.promise;
    const started = performance.now();
    await loop.stop();
    await running;
    assert.ok(performance.now() - started < 1000, 'the minute-long wait was cut short');
    assert.equal(finished, true);
    assert.equal(loop.state, 'stopped');
  });

  test('stop() during a dispatch waits for it to finish before finish runs', async () => {
    const inDispatch = signalled();
    const release = signalled();
    const events: string[] = [];
    const loop = new PollLoop<Item>(
      loopConfig({
        fetch: async (position) => read(category(3), position, 10),
        dispatch: async () => {
          inDispatch.resolve();
          await release.promise;
          events.push('dispatched');
        },
        finish: async () => void events.push('finished'),
      }),
    );
    const running = loop.run();
    await inDispatch.promise;
    const stopping = loop.stop();
    assert.equal(loop.state, 'stopping');
    release.resolve();
    await stopping;
    await running;
    assert.deepEqual(events, ['dispatched', 'finished']);
  });

  test('abandon() ends a run whose dispatch never settles: finish runs, the run resolves, stopped', async () => {
    const inDispatch = signalled();
    const events: string[] = [];
    const loop = new PollLoop<Item>(
      loopConfig({
        fetch: async (position) => read(category(3), position, 10),
        dispatch: () => {
          inDispatch.resolve();
          return new Promise<void>(() => {});
        },
        finish: async (failure) => void events.push(`finished ${String(failure)}`),
      }),
    );
    const running = loop.run();
    await inDispatch.promise;
    await loop.abandon();
    await running;
    assert.deepEqual(events, ['finished undefined']);
    assert.equal(loop.state, 'stopped');
    assert.equal(loop.abandoned, true);
  });

  test('abandon() after stop() ends the wait for a dispatch that never settles', async () => {
    const inDispatch = signalled();
    const loop = new PollLoop<Item>(
      loopConfig({
        fetch: async (position) => read(category(3), position, 10),
        dispatch: () => {
          inDispatch.resolve();
          return new Promise<void>(() => {});
        },
      }),
    );
    const running = loop.run();
    await inDispatch.promise;
    const stopping = loop.stop();
    void loop.abandon();
    await stopping;
    await running;
    assert.equal(loop.state, 'stopped');
  });

  test('the AbortSignal given to run() stops it like stop()', async () => {
    const controller = new AbortController();
    const idle = signalled();
    const loop = new PollLoop<Item>(loopConfig({ idle: async () => idle.resolve() }));
    const running = loop.run(controller.signal);
    await idle.promise;
    controller.abort();
    await running;
    assert.equal(loop.state, 'stopped');
  });

  test('a transient fetch failure is retried from the same position, with the delay retryDelayMs gives', async () => {
    const items = category(5);
    const positions: number[] = [];
    const retries: Array<[number, number]> = [];
    const caughtUp = signalled();
    let failures = 3;
    const loop = new PollLoop<Item>(
      loopConfig({
        start: async () => 3,
        fetch: async (position) => {
          positions.push(position);
          if (failures-- > 0) throw new ConnectionError('lost');
          return read(items, position, 10);
        },
        retryDelayMs: (attempt) => attempt * 5,
        onRetry: (_, attempt, delayMs) => retries.push([attempt, delayMs]),
        idle: async () => caughtUp.resolve(),
      }),
    );
    const running = loop.run();
    await caughtUp.promise;
    assert.deepEqual(positions, [3, 3, 3, 3, 6]);
    assert.deepEqual(retries, [
      [1, 5],
      [2, 10],
      [3, 15],
    ]);
    await loop.stop();
    await running;
  });

  test('a transient failure of start() is retried too', async () => {
    let attempts = 0;
    const idle = signalled();
    const loop = new PollLoop<Item>(
      loopConfig({
        start: async () => {
          if (++attempts < 3) throw new ConnectionError('refused');
          return 1;
        },
        idle: async () => idle.resolve(),
      }),
    );
    const running = loop.run();
    await idle.promise;
    assert.equal(attempts, 3);
    await loop.stop();
    await running;
  });

  test('a failure that is not transient ends the run: it rejects, finish sees it, the state is failed', async () => {
    const failure = new Error('handler blew up');
    let seen: unknown;
    const loop = new PollLoop<Item>(
      loopConfig({
        fetch: async (position) => read(category(2), position, 10),
        dispatch: async () => {
          throw failure;
        },
        finish: async (error) => {
          seen = error;
        },
      }),
    );
    await assert.rejects(loop.run(), (error) => error === failure);
    assert.equal(seen, failure);
    assert.equal(loop.state, 'failed');
  });

  test('stop() during a retry wait ends the run cleanly', async () => {
    const failing = signalled();
    const loop = new PollLoop<Item>(
      loopConfig({
        fetch: async () => {
          failing.resolve();
          throw new ConnectionError('lost');
        },
        retryDelayMs: () => 60_000,
      }),
    );
    const running = loop.run();
    await failing.promise;
    await loop.stop();
    await running;
    assert.equal(loop.state, 'stopped');
  });

  test('wake() ends the poll wait at once', async () => {
    let reads = 0;
    const secondRead = signalled();
    const idle = signalled();
    const loop = new PollLoop<Item>(
      loopConfig({
        fetch: async () => {
          if (++reads === 2) secondRead.resolve();
          return [];
        },
        idle: async () => idle.resolve(),
      }),
    );
    const running = loop.run();
    await idle.promise;
    loop.wake();
    // pollIntervalMs is a minute: the second read can only come from the wake-up.
    await secondRead.promise;
    await loop.stop();
    await running;
  });

  test('a wake() that arrives during a read skips the wait after it', async () => {
    let reads = 0;
    const secondRead = signalled();
    const loop = new PollLoop<Item>(
      loopConfig({
        fetch: async () => {
          reads++;
          if (reads === 1) loop.wake();
          if (reads === 2) secondRead.resolve();
          return [];
        },
      }),
    );
    const running = loop.run();
    await secondRead.promise;
    await loop.stop();
    await running;
  });
});
