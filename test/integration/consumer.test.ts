/**
 * Consumers on a real PostgreSQL server and on PGlite: order, completeness, handlers, errors,
 * positions, stop and resume, iteration and stats.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Consumer, ConsumerError, HandlerError, isHandlerError, type Message, type MessageDbClient } from '../../src/index.ts';
import { engines, randomCategory } from '../support/databases.ts';
import { Handled, eventually, recordedPositions, sequencesByStream, writeSpread, type SpreadData } from '../support/consumer-support.ts';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

for (const engine of engines) {
  describe(`consumer on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    describe('10k messages over 100 streams', () => {
      let category: string;
      let head: number;
      before(async () => {
        category = randomCategory('spread');
        head = await writeSpread(client, category, 10_000, 100);
      });

      for (const concurrency of [1, 8]) {
        test(`with concurrency ${concurrency} every message is handled once, in order within each stream`, async () => {
          const handled = new Handled<SpreadData>();
          let inFlight = 0;
          let maxInFlight = 0;
          const consumer = new Consumer(client, { category, identifier: `c${concurrency}`, concurrency });
          consumer.onAny<SpreadData>(async (message) => {
            maxInFlight = Math.max(maxInFlight, ++inFlight);
            // Yield, so handlers of other streams can run meanwhile.
            await tick();
            inFlight--;
            handled.add(message);
          });
          const running = consumer.start();
          await handled.count(10_000);
          await consumer.stop();
          await running;

          assert.equal(handled.messages.length, 10_000);
          assert.equal(new Set(handled.globalPositions).size, 10_000, 'no message handled twice');
          const byStream = sequencesByStream(handled.messages);
          assert.equal(byStream.size, 100);
          for (const [stream, sequences] of byStream) {
            assert.deepEqual(
              sequences,
              Array.from({ length: 100 }, (_, index) => index),
              `${stream} in order`,
            );
          }
          if (concurrency === 1) assert.equal(maxInFlight, 1);
          else assert.ok(maxInFlight > 1 && maxInFlight <= concurrency, `${maxInFlight} in flight at most`);
          assert.equal((await consumer.stats()).recordedPosition, head);
        });
      }
    });

    test('messages go to the handler of their type, others to the catch-all, and a handler can write', async () => {
      const category = randomCategory();
      const output = randomCategory('out');
      await client.writeMessages([
        { streamName: `${category}-1`, type: 'Opened' },
        { streamName: `${category}-1`, type: 'Deposited', data: { amount: 5 } },
        { streamName: `${category}-2`, type: 'Closed' },
      ]);
      const seen: string[] = [];
      const done = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'types' })
        .on<{ amount: number }>('Deposited', async (message, context) => {
          seen.push(`Deposited ${message.data.amount}`);
          await context.client.writeMessage({ streamName: `${output}-1`, type: 'Noted', data: message.data });
          done.add(message);
        })
        .on('Opened', (message) => {
          seen.push('Opened');
          done.add(message);
        })
        .onAny((message) => {
          seen.push(`any ${message.type}`);
          done.add(message);
        });
      const running = consumer.start();
      await done.count(3);
      await consumer.stop();
      await running;
      assert.deepEqual(seen, ['Opened', 'Deposited 5', 'any Closed']);
      assert.deepEqual((await client.getLastStreamMessage(`${output}-1`))?.data, { amount: 5 });
    });

    test('a message no handler matches is passed over, and the position still moves past it', async () => {
      const category = randomCategory();
      await client.writeMessages([
        { streamName: `${category}-1`, type: 'Unknown' },
        { streamName: `${category}-1`, type: 'Known' },
      ]);
      const handled = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'x' }).on('Known', (message) => handled.add(message));
      const running = consumer.start();
      await handled.count(1);
      await consumer.stop();
      await running;
      const stats = await consumer.stats();
      assert.equal(stats.handled, 2);
      assert.equal(stats.recordedPosition, handled.messages[0]?.globalPosition);
    });

    test('in strict mode a message without a handler stops the consumer with a HandlerError', async () => {
      const category = randomCategory();
      await client.writeMessages([
        { streamName: `${category}-1`, type: 'Known' },
        { streamName: `${category}-1`, type: 'Unknown' },
      ]);
      const handled = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'x', strict: true }).on('Known', (m) => handled.add(m));
      const error = await consumer.start().catch((e: unknown) => e);
      assert.ok(error instanceof HandlerError, String(error));
      assert.equal(error.messageType, 'Unknown');
      assert.match(error.message, /strict/);
      assert.equal(consumer.state, 'failed');
      assert.equal((await consumer.stats()).recordedPosition, handled.messages[0]?.globalPosition);
    });

    test('a handler that throws stops the consumer: start() rejects with the error, the position stops before it', async () => {
      const category = randomCategory();
      await client.writeMessages([
        { streamName: `${category}-1`, type: 'Good' },
        { streamName: `${category}-1`, type: 'Bad' },
        { streamName: `${category}-1`, type: 'Good' },
      ]);
      const [first, bad] = await client.getCategoryMessages(category);
      const failure = new Error('handler failed');
      const consumer = new Consumer(client, { category, identifier: 'x' })
        .on('Good', () => {})
        .on('Bad', () => {
          throw failure;
        });
      const error = await consumer.start().catch((e: unknown) => e);
      assert.ok(isHandlerError(error));
      assert.equal(error.cause, failure);
      assert.equal(error.globalPosition, bad?.globalPosition);
      assert.equal(error.streamName, `${category}-1`);
      assert.equal(consumer.state, 'failed');
      assert.deepEqual(await recordedPositions(client, consumer.positionStreamName), [first?.globalPosition]);

      // Started again, it resumes at its recorded position and reaches the failing message again.
      const again = await consumer.start().catch((e: unknown) => e);
      assert.ok(isHandlerError(again));
      // Handled in all: the first message, in each run.
      assert.equal((await consumer.stats()).handled, 2);
    });

    // A handler that throws is handled without an await; one that rejects, through its promise.
    for (const style of ['throws', 'rejects'] as const) {
      test(`onError 'retry' tries a handler that ${style} again with backoff until it succeeds`, async () => {
        const category = randomCategory();
        await client.writeMessage({ streamName: `${category}-1`, type: 'Flaky' });
        const attempts: number[] = [];
        let calls = 0;
        const handled = new Handled();
        const consumer = new Consumer(client, {
          category,
          identifier: 'x',
          retry: { initialDelayMs: 5, maxDelayMs: 20 },
          onError: (error, message, attempt) => {
            assert.ok(isHandlerError(error));
            assert.equal(message.type, 'Flaky');
            attempts.push(attempt);
            return 'retry';
          },
        }).on('Flaky', (message) => {
          const succeeds = ++calls >= 3;
          if (style === 'rejects') return succeeds ? Promise.resolve(handled.add(message)) : Promise.reject(new Error('not yet'));
          if (!succeeds) throw new Error('not yet');
          handled.add(message);
          return undefined;
        });
        const running = consumer.start();
        await handled.count(1);
        await consumer.stop();
        await running;
        assert.deepEqual(attempts, [1, 2]);
        assert.equal((await consumer.stats()).errors, 2);
      });
    }

    test("onError 'skip' passes over the failed message and carries on", async () => {
      const category = randomCategory();
      await client.writeMessages([
        { streamName: `${category}-1`, type: 'Bad' },
        { streamName: `${category}-1`, type: 'Good' },
      ]);
      const handled = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'x', onError: () => 'skip' })
        .on('Bad', () => {
          throw new Error('bad');
        })
        .on('Good', (message) => handled.add(message));
      const running = consumer.start();
      await handled.count(1);
      await consumer.stop();
      await running;
      assert.equal(consumer.state, 'stopped');
      assert.equal((await consumer.stats()).recordedPosition, handled.messages[0]?.globalPosition);
    });

    test('stop() lets the message in flight finish, records its position, then resolves', async () => {
      const category = randomCategory();
      await client.writeMessages([
        { streamName: `${category}-1`, type: 'Slow' },
        { streamName: `${category}-1`, type: 'Slow' },
      ]);
      const [first] = await client.getCategoryMessages(category);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const started = new Handled();
      const finished: number[] = [];
      const consumer = new Consumer(client, { category, identifier: 'x' }).on('Slow', async (message) => {
        started.add(message);
        await released;
        finished.push(message.globalPosition);
      });
      const running = consumer.start();
      await started.count(1);
      const stopping = consumer.stop();
      assert.equal(consumer.state, 'stopping');
      release();
      await stopping;
      await running;
      assert.deepEqual(finished, [first?.globalPosition], 'the second message was not started');
      assert.deepEqual(await recordedPositions(client, consumer.positionStreamName), [first?.globalPosition]);
      assert.equal(consumer.state, 'stopped');
    });

    test('a restarted consumer resumes at its recorded position, inclusively, as Eventide does', async () => {
      const category = randomCategory();
      await writeSpread(client, category, 10, 2);
      const all = await client.getCategoryMessages(category);
      const first = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'x' }).onAny((message) => first.add(message));
      const running = consumer.start();
      await first.count(10);
      await consumer.stop();
      await running;
      await writeSpread(client, category, 3, 2);

      const second = new Handled();
      const resumed = new Consumer(client, { category, identifier: 'x' }).onAny((message) => second.add(message));
      const resumedRun = resumed.start();
      await second.count(4);
      await resumed.stop();
      await resumedRun;
      assert.equal(second.globalPositions[0], all.at(-1)?.globalPosition, 'the last recorded message comes again');
      assert.equal(second.messages.length, 4);
    });

    test('the position is recorded every positionUpdateInterval handled messages', async () => {
      const category = randomCategory();
      await writeSpread(client, category, 25, 5);
      const all = await client.getCategoryMessages(category);
      const handled = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'x', positionUpdateInterval: 10 }).onAny((m) => handled.add(m));
      const running = consumer.start();
      await handled.count(25);
      await consumer.stop();
      await running;
      assert.deepEqual(await recordedPositions(client, consumer.positionStreamName), [
        all[9]?.globalPosition,
        all[19]?.globalPosition,
        all[24]?.globalPosition,
      ]);
    });

    test('a consumer that goes idle records its position without waiting for the interval', async () => {
      const category = randomCategory();
      await writeSpread(client, category, 3, 1);
      const head = await client.categoryHead(category);
      const handled = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'x', positionUpdateInterval: 1000 }).onAny((m) => handled.add(m));
      const running = consumer.start();
      await handled.count(3);
      await eventually(async () => (await consumer.stats()).recordedPosition === head, 'the idle consumer recorded its position');
      assert.equal(consumer.state, 'live');
      assert.deepEqual(await recordedPositions(client, consumer.positionStreamName), [head]);
      await consumer.stop();
      await running;
    });

    test('for await over a consumer yields messages in order; break leaves the current one unhandled', async () => {
      const category = randomCategory();
      await writeSpread(client, category, 5, 1);
      const all = await client.getCategoryMessages(category);
      const seen: Message[] = [];
      const consumer = new Consumer(client, { category, identifier: 'iter' });
      for await (const message of consumer) {
        seen.push(message);
        if (seen.length === 3) break;
      }
      assert.deepEqual(
        seen.map((m) => m.globalPosition),
        all.slice(0, 3).map((m) => m.globalPosition),
      );
      assert.equal(consumer.state, 'stopped');
      // The third message's loop body did not finish: the second is the last handled.
      assert.equal((await consumer.stats()).recordedPosition, all[1]?.globalPosition);

      const again: number[] = [];
      for await (const message of new Consumer(client, { category, identifier: 'iter' })) {
        again.push(message.globalPosition);
        if (again.length === 4) break;
      }
      assert.deepEqual(
        again,
        all.slice(1, 5).map((m) => m.globalPosition),
      );
    });

    test('iterating a consumer that has handlers is refused', () => {
      const consumer = new Consumer(client, { category: randomCategory(), identifier: 'x' }).onAny(() => {});
      assert.throws(() => consumer.messages(), ConsumerError);
    });

    test('stats report the position, the category head, the lag, the handled count and the state', async () => {
      const category = randomCategory();
      await writeSpread(client, category, 6, 2);
      const head = await client.categoryHead(category);
      const handled = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'x' }).onAny((m) => handled.add(m));
      assert.equal(consumer.state, 'stopped');
      const running = consumer.start();
      await handled.count(6);
      const live = await consumer.stats();
      assert.equal(live.position, head);
      assert.equal(live.categoryHead, head);
      assert.equal(live.lag, 0);
      assert.equal(live.handled, 6);
      assert.equal(live.errors, 0);
      assert.ok(live.state === 'live' || live.state === 'catching up');
      await client.writeMessage({ streamName: `${category}-9`, type: 'Later' });
      await handled.count(7);
      await consumer.stop();
      await running;
      const stopped = await consumer.stats();
      assert.equal(stopped.state, 'stopped');
      assert.equal(stopped.handled, 7);
      assert.equal(stopped.lag, 0);
    });

    test('the AbortSignal given to start() stops the consumer', async () => {
      const category = randomCategory();
      await client.writeMessage({ streamName: `${category}-1`, type: 'A' });
      const handled = new Handled();
      const controller = new AbortController();
      const consumer = new Consumer(client, { category, identifier: 'x' }).onAny((m) => handled.add(m));
      const running = consumer.start({ signal: controller.signal });
      await handled.count(1);
      controller.abort();
      await running;
      assert.equal(consumer.state, 'stopped');
      assert.equal((await consumer.stats()).recordedPosition, handled.messages[0]?.globalPosition);
    });

    test('starting a consumer that is running is refused', async () => {
      const consumer = new Consumer(client, { category: randomCategory(), identifier: 'x' });
      const running = consumer.start();
      await assert.rejects(consumer.start(), ConsumerError);
      await consumer.stop();
      await running;
    });

    test('a correlation consumer sees only messages correlated to its category', async () => {
      const category = randomCategory();
      await client.writeMessages([
        { streamName: `${category}-1`, type: 'Mine', metadata: { correlationStreamName: 'origin-7' } },
        { streamName: `${category}-1`, type: 'Other', metadata: { correlationStreamName: 'elsewhere-7' } },
        { streamName: `${category}-1`, type: 'Mine', metadata: { correlationStreamName: 'origin' } },
      ]);
      const handled = new Handled();
      const consumer = new Consumer(client, { category, identifier: 'x', correlation: 'origin' }).onAny((m) => handled.add(m));
      const running = consumer.start();
      await handled.count(2);
      await consumer.stop();
      await running;
      assert.deepEqual(
        handled.messages.map((m) => m.type),
        ['Mine', 'Mine'],
      );
    });
  });
}
