/**
 * Handlers that never settle: `handlerTimeoutMs` fails them through `onError`, `stop({ timeoutMs })`
 * and a closed client end the stop without them, and their message stays unhandled, so a new
 * consumer handles it again. On PostgreSQL and PGlite; the closed-client case on PostgreSQL (a
 * second client must see the first one's position).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  Consumer,
  HandlerTimeoutError,
  isHandlerError,
  isHandlerTimeoutError,
  type HandlerError,
  type Message,
  type MessageDbClient,
} from '../../src/index.ts';
import { MessageDbClient as Client } from '../../src/index.ts';
import { createDatabase, engines, postgresClient, randomCategory } from '../support/databases.ts';
import { Handled, recordedPositions } from '../support/consumer-support.ts';

/** A resolvable promise, to wait on events instead of time. */
function signalled<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves with `promise`'s outcome, or rejects when it has not settled after `ms` (a hang). */
function settlesWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} had not settled after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Three messages in one stream; returns their global positions. */
async function writeThree(client: MessageDbClient, category: string): Promise<number[]> {
  const streamName = `${category}-1`;
  await client.writeMessages([0, 1, 2].map((step) => ({ streamName, type: 'Stepped', data: { step } })));
  return (await client.getStreamMessages(streamName)).map((message) => message.globalPosition);
}

/**
 * A handler that never settles on the message at `stuckAt` and notes every other one. `stuck`
 * resolves with that call's signal once it started; `release()` lets it finish late.
 */
function stuckHandler(stuckAt: () => number) {
  const handled = new Handled();
  const stuck = signalled<AbortSignal>();
  const late = signalled();
  const handler = async (message: Message, { signal }: { signal: AbortSignal }): Promise<void> => {
    if (message.globalPosition === stuckAt()) {
      stuck.resolve(signal);
      await late.promise;
    }
    handled.add(message);
  };
  return { handled, stuck: stuck.promise, handler, release: () => late.resolve() };
}

for (const engine of engines) {
  describe(`a handler that never settles, on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test("past handlerTimeoutMs it fails with a HandlerTimeoutError: onError sees it, its signal is aborted, and 'skip' carries on", async () => {
      const category = randomCategory('timeout');
      const positions = await writeThree(client, category);
      const { handled, stuck, handler } = stuckHandler(() => positions[1]!);
      const errors: HandlerError[] = [];
      // The other two handlers finish in microseconds: a second is far beyond them on a loaded machine.
      const consumer = new Consumer(client, {
        category,
        identifier: 'skip',
        handlerTimeoutMs: 1000,
        onError: (error) => {
          errors.push(error);
          return 'skip';
        },
      }).onAny(handler);
      const running = consumer.start();
      await handled.through(positions[2]!, 30_000);
      await consumer.stop();
      await running;

      assert.equal(errors.length, 1);
      const [error] = errors;
      assert.ok(error instanceof HandlerTimeoutError && isHandlerTimeoutError(error) && isHandlerError(error));
      assert.equal(error.code, 'HANDLER');
      assert.equal(error.globalPosition, positions[1]);
      assert.equal(error.timeoutMs, 1000);
      assert.match(error.message, /handlerTimeoutMs \(1000 ms\)/);
      const signal = await stuck;
      assert.equal(signal.aborted, true, "the stuck handler's signal is aborted");
      assert.equal(signal.reason, error);
      assert.deepEqual(handled.globalPositions, [positions[0], positions[2]]);
      assert.equal((await consumer.stats()).recordedPosition, positions[2], "'skip' counts the message as handled");
    });

    test('without onError a handler timeout stops the consumer; a new consumer handles that message again', async () => {
      const category = randomCategory('timeout');
      const positions = await writeThree(client, category);
      const first = stuckHandler(() => positions[1]!);
      const consumer = new Consumer(client, { category, identifier: 'stop', handlerTimeoutMs: 1000 }).onAny(first.handler);
      await assert.rejects(
        settlesWithin(consumer.start(), 30_000, 'start()'),
        (error) => isHandlerTimeoutError(error) && error.globalPosition === positions[1],
      );
      assert.deepEqual(await recordedPositions(client, consumer.positionStreamName), [positions[0]], 'the position stops before the message');

      const again = new Handled();
      const second = new Consumer(client, { category, identifier: 'stop' }).onAny((message) => again.add(message));
      const running = second.start();
      await again.through(positions[2]!);
      await second.stop();
      await running;
      assert.deepEqual(again.globalPositions, positions, 'resumed inclusively at the last recorded message');
    });

    test('stop({ timeoutMs }) gives up on it: the position stays before its message, a late finish records nothing, a new consumer handles it', async () => {
      const category = randomCategory('stop');
      const positions = await writeThree(client, category);
      const first = stuckHandler(() => positions[1]!);
      const consumer = new Consumer(client, { category, identifier: 'stop-timeout', positionUpdateInterval: 1 }).onAny(first.handler);
      const running = consumer.start();
      await first.stuck;
      await settlesWithin(consumer.stop({ timeoutMs: 100 }), 10_000, 'stop({ timeoutMs: 100 })');
      await running;
      assert.equal(consumer.state, 'stopped');
      assert.deepEqual(await recordedPositions(client, consumer.positionStreamName), [positions[0]]);

      // The abandoned handler finishing now must not move the position of that run or any later one.
      first.release();
      await first.handled.through(positions[1]!);
      assert.equal((await consumer.stats()).position, positions[0]);

      const again = new Handled();
      const second = new Consumer(client, { category, identifier: 'stop-timeout' }).onAny((message) => again.add(message));
      const resumed = second.start();
      await again.through(positions[2]!);
      await second.stop();
      await resumed;
      assert.deepEqual(again.globalPositions, positions);
      assert.deepEqual(await recordedPositions(client, consumer.positionStreamName), [positions[0], positions[2]]);
    });

    test('stop({ timeoutMs }) with a bad value is refused, naming it', async () => {
      const consumer = new Consumer(client, { category: randomCategory() });
      await assert.rejects(consumer.stop({ timeoutMs: -1 }), /timeoutMs must be an integer/);
      assert.throws(() => new Consumer(client, { category: randomCategory(), handlerTimeoutMs: 0 }), /handlerTimeoutMs must be an integer/);
    });
  });
}

describe('a handler that never settles when the client is closed, on postgres', () => {
  for (const order of ['close() then stop()', 'stop() then close()'] as const) {
    test(`${order}: stop() settles, and a new client's consumer handles that message again`, async () => {
      const database = await createDatabase();
      const setup = await postgresClient({}, database);
      const category = randomCategory('closed');
      const positions = await writeThree(setup, category);

      const client = await Client.connect(database.url);
      const first = stuckHandler(() => positions[1]!);
      const consumer = new Consumer(client, { category, identifier: 'closed', positionUpdateInterval: 1 }).onAny(first.handler);
      const running = consumer.start();
      running.catch(() => {});
      await first.stuck;
      let stopping: Promise<void>;
      if (order === 'close() then stop()') {
        await client.close();
        stopping = consumer.stop();
      } else {
        stopping = consumer.stop();
        await client.close();
      }
      await settlesWithin(stopping, 10_000, 'stop()');
      await settlesWithin(
        running.catch(() => {}),
        10_000,
        'start()',
      );

      const again = new Handled();
      const second = new Consumer(setup, { category, identifier: 'closed' }).onAny((message) => again.add(message));
      const resumed = second.start();
      await again.through(positions[2]!);
      await second.stop();
      await resumed;
      assert.deepEqual(again.globalPositions, positions, 'the stuck message is handled again, after the last recorded one');
      first.release();
    });
  }
});
