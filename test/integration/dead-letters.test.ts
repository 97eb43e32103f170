/**
 * Dead letters on PostgreSQL and PGlite: a poison message parked after its retries while the
 * consumer goes on, its parked copy and causation, the consumed category free of it, parking that
 * does not repeat after a re-delivery, replays (in code and by request to the running consumer),
 * discards, and bad input refused with typed errors before anything is written.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  Consumer,
  DEAD_LETTER_RECORD_TYPES,
  deadLetterStreamName,
  discardDeadLetters,
  isConsumerError,
  isHandlerError,
  isInvalidArgumentError,
  listDeadLetters,
  requestDeadLetterReplay,
  type Message,
  type MessageDbClient,
} from '../../src/index.ts';
import { Handled, eventually, recordedPositions, writeSpread } from '../support/consumer-support.ts';
import { engines, postgresClient, randomCategory } from '../support/databases.ts';
import { sample } from '../support/metrics-text.ts';

const fastRetries = { initialDelayMs: 1, maxDelayMs: 5 };

/** A consumer whose handler fails on `poison()` while `failing()` says so; `tries` counts the calls on it. */
function poisoned(client: MessageDbClient, category: string, poison: () => number, failing: () => boolean, pollIntervalMs = 20) {
  const handled = new Handled();
  let tries = 0;
  const consumer = new Consumer(client, {
    category,
    identifier: 'worker1',
    pollIntervalMs,
    retry: fastRetries,
    onError: { retries: 2, afterRetries: 'dead-letter' },
  }).onAny((message) => {
    if (message.globalPosition === poison()) {
      tries++;
      if (failing()) throw new Error('cannot handle this one');
    }
    handled.add(message);
  });
  return { consumer, handled, tries: () => tries };
}

for (const engine of engines) {
  describe(`dead letters, on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test('a handler failing on 1 message in 1,000 with retries then dead-letter: 999 handled in order, 1 parked with its causation, the consumer running and its position past it', async () => {
      const category = randomCategory('dead');
      const head = await writeSpread(client, category, 1000, 10);
      const all = await client.getCategoryMessages(category, { batchSize: -1 });
      const poison = all[499] as Message;
      let failing = true;
      const { consumer, handled, tries } = poisoned(
        client,
        category,
        () => poison.globalPosition,
        () => failing,
      );
      const running = consumer.start();
      await handled.count(999);
      await eventually(async () => (await recordedPositions(client, consumer.positionStreamName)).at(-1) === head, 'the position is recorded at the head');

      assert.deepEqual(
        handled.globalPositions,
        all.filter((message) => message !== poison).map((message) => message.globalPosition),
        'the 999 others, in order',
      );
      assert.equal(tries(), 3, 'the first try and 2 retries');
      assert.equal(consumer.state, 'live', 'still running');
      assert.equal((await consumer.stats()).position, head);

      const streamName = deadLetterStreamName(category, 'worker1');
      assert.equal(consumer.deadLetterStreamName, streamName);
      assert.equal(streamName, `${category}:deadLetter-worker1`);
      const [copy, ...more] = await client.getStreamMessages(streamName);
      assert.equal(more.length, 0, 'one parked copy');
      assert.equal(copy?.type, poison.type);
      assert.deepEqual(copy?.data, poison.data);
      assert.equal(copy?.metadata?.causationMessageStreamName, poison.streamName);
      assert.equal(copy?.metadata?.causationMessagePosition, poison.position);
      assert.equal(copy?.metadata?.causationMessageGlobalPosition, poison.globalPosition);
      const failure = copy?.metadata?.localProperties?.deadLetter as Record<string, unknown>;
      assert.deepEqual(failure.error, { name: 'Error', message: 'cannot handle this one' });
      assert.equal(failure.attempts, 3);
      assert.deepEqual(failure.consumer, { category, identifier: 'worker1' });
      assert.ok(Math.abs(Date.parse(String(failure.time)) - Date.now()) < 600_000, 'the time it was parked');

      const [letter] = await listDeadLetters(client, streamName);
      assert.equal(letter?.state, 'parked');
      assert.deepEqual(letter?.message, poison, 'the original, as handlers receive it');
      assert.deepEqual((await consumer.stats()).deadLetters, { parked: 1, replayed: 0, discarded: 0, waiting: 1 });

      const categoryRead = await client.getCategoryMessages(category, { batchSize: -1 });
      assert.equal(categoryRead.length, 1000, 'a read of the consumed category does not return the parked copy');
      assert.ok(categoryRead.every((message) => !message.streamName.includes('deadLetter')));

      // The bug fixed: a replay from code handles it through the handlers once.
      failing = false;
      assert.deepEqual(await consumer.replayDeadLetters(), { replayed: [poison.globalPosition], failed: [] });
      assert.equal(handled.globalPositions.filter((position) => position === poison.globalPosition).length, 1);
      assert.equal(handled.messages.at(-1)?.id, poison.id, 'after newer messages of its stream');
      assert.equal((await listDeadLetters(client, streamName))[0]?.state, 'replayed');
      assert.deepEqual(await consumer.replayDeadLetters(), { replayed: [], failed: [] }, 'nothing waits any more');
      await consumer.stop();
      await running;
    });

    test('a replay requested while the consumer runs reaches its handler once, even when requested twice', async () => {
      const category = randomCategory('dead');
      await client.writeMessages([0, 1, 2].map((step) => ({ streamName: `${category}-1`, type: 'Stepped', data: { step } })));
      const [, poison] = await client.getCategoryMessages(category);
      let failing = true;
      const { consumer, handled } = poisoned(
        client,
        category,
        () => poison?.globalPosition ?? -1,
        () => failing,
      );
      const running = consumer.start();
      await handled.count(2);
      const streamName = deadLetterStreamName(category, 'worker1');
      await eventually(async () => (await listDeadLetters(client, streamName)).length === 1, 'the message is parked');
      failing = false;
      assert.deepEqual(await requestDeadLetterReplay(client, streamName, 'all'), [poison?.globalPosition]);
      assert.deepEqual(await requestDeadLetterReplay(client, streamName, [poison?.globalPosition ?? -1]), [poison?.globalPosition], 'asked again');
      await handled.count(3);
      await eventually(async () => (await listDeadLetters(client, streamName))[0]?.state === 'replayed', 'marked replayed');
      await consumer.stop();
      await running;
      assert.equal(handled.globalPositions.filter((position) => position === poison?.globalPosition).length, 1, 'handled once');
      const types = (await client.getStreamMessages(streamName)).map((record) => record.type);
      assert.deepEqual(types, ['Stepped', DEAD_LETTER_RECORD_TYPES.replayRequested, DEAD_LETTER_RECORD_TYPES.replayed]);
    });

    test('a replay that fails again is recorded and leaves the message parked; a discard records the decision', async () => {
      const category = randomCategory('dead');
      await client.writeMessage({ streamName: `${category}-1`, type: 'Poison' });
      const [poison] = await client.getCategoryMessages(category);
      const { consumer, tries } = poisoned(
        client,
        category,
        () => poison?.globalPosition ?? -1,
        () => true,
      );
      const running = consumer.start();
      const streamName = deadLetterStreamName(category, 'worker1');
      await eventually(async () => (await listDeadLetters(client, streamName)).length === 1, 'the message is parked');
      assert.deepEqual(await consumer.replayDeadLetters({ globalPositions: [poison?.globalPosition ?? -1] }), {
        replayed: [],
        failed: [poison?.globalPosition],
      });
      assert.equal(tries(), 4, 'the replay tried once');
      const [failed] = await listDeadLetters(client, streamName);
      assert.equal(failed?.state, 'parked');
      assert.equal(failed?.reason, 'cannot handle this one');

      assert.deepEqual(await discardDeadLetters(client, streamName, 'all', { reason: 'a test message' }), [poison?.globalPosition]);
      const [discarded] = await listDeadLetters(client, streamName);
      assert.equal(discarded?.state, 'discarded');
      assert.equal(discarded?.reason, 'a test message');
      const decision = (await client.getLastStreamMessage(streamName)) as Message;
      assert.equal(decision.type, DEAD_LETTER_RECORD_TYPES.discarded);
      assert.deepEqual(decision.data, { globalPosition: poison?.globalPosition, reason: 'a test message' });
      assert.equal((await client.getStreamMessages(streamName)).length, 3, 'nothing deleted: the copy, ReplayFailed, Discarded');

      const again = await discardDeadLetters(client, streamName, [poison?.globalPosition ?? -1]).catch((error: unknown) => error);
      assert.ok(isConsumerError(again), 'a decided message cannot be discarded again');
      assert.match(String((again as Error).message), /it was discarded/);
      await eventually(async () => (await consumer.stats()).deadLetters.discarded === 1, 'the consumer sees the discard');
      await consumer.stop();
      await running;
    });

    test('a message delivered again after it was parked (a crash before the position record) is not parked twice', async () => {
      const category = randomCategory('dead');
      await client.writeMessages([0, 1].map((step) => ({ streamName: `${category}-1`, type: 'Stepped', data: { step } })));
      const [first, poison] = await client.getCategoryMessages(category);
      const run = async (): Promise<void> => {
        const { consumer, handled } = poisoned(
          client,
          category,
          () => poison?.globalPosition ?? -1,
          () => true,
        );
        const running = consumer.start();
        await handled.count(1);
        await eventually(async () => (await consumer.stats()).recordedPosition === poison?.globalPosition, 'recorded past the parked message');
        await consumer.stop();
        await running;
      };
      await run();
      // As if the process died after parking and before its position record.
      await client.writeMessage({ streamName: `${category}:position-worker1`, type: 'Recorded', data: { position: first?.globalPosition } });
      await run();
      const streamName = deadLetterStreamName(category, 'worker1');
      assert.equal((await client.getStreamMessages(streamName)).length, 1, 'one parked copy');
      assert.equal((await listDeadLetters(client, streamName))[0]?.copies, 1);
    });

    test('a handler past handlerTimeoutMs counts as failed and is parked with its HandlerTimeoutError', async () => {
      const category = randomCategory('dead');
      await client.writeMessages([0, 1].map((step) => ({ streamName: `${category}-1`, type: step === 0 ? 'Hangs' : 'Fine' })));
      const handled = new Handled();
      const consumer = new Consumer(client, {
        category,
        identifier: 'w',
        handlerTimeoutMs: 50,
        pollIntervalMs: 20,
        onError: { retries: 0, afterRetries: 'dead-letter' },
      })
        .on('Hangs', () => new Promise<void>(() => {}))
        .on('Fine', (message) => handled.add(message));
      const running = consumer.start();
      await handled.count(1);
      await consumer.stop();
      await running;
      const [letter] = await listDeadLetters(client, deadLetterStreamName(category, 'w'));
      assert.equal(letter?.type, 'Hangs');
      assert.equal(letter?.failure.error.name, 'HandlerTimeoutError');
      assert.match(letter?.failure.error.message ?? '', /handlerTimeoutMs \(50 ms\)/);
    });

    test('bad input is refused with typed errors before anything is written', async () => {
      const category = randomCategory('dead');
      const config =
        (onError: unknown, identifier: string | null = 'w') =>
        () =>
          new Consumer(client, { category, identifier: identifier ?? undefined, onError: onError as never });
      const refuses = (make: () => unknown, argument: string) =>
        assert.throws(make, (error: unknown) => isInvalidArgumentError(error) && error.argument === argument, `refuses ${argument}`);
      refuses(config({ retries: -1, afterRetries: 'dead-letter' }), 'onError.retries');
      refuses(config({ retries: 1.5, afterRetries: 'dead-letter' }), 'onError.retries');
      refuses(config({ retries: '3', afterRetries: 'dead-letter' }), 'onError.retries');
      refuses(config({ retries: 3, afterRetries: 'explode' }), 'onError.afterRetries');
      refuses(config({ retries: 3, afterRetries: 'retry' }), 'onError.afterRetries');
      refuses(config({ retries: 3, afterRetries: 'skip', retry: 1 }), 'onError.retry');
      refuses(config(JSON.parse('{ "retries": 3, "then": "skip" }')), 'onError.then');
      refuses(config({ retries: 3, afterRetries: 'dead-letter' }, null), 'identifier');
      refuses(config('dead-letter'), 'onError');
      refuses(() => deadLetterStreamName('account-1', 'w'), 'category');

      // An onError answer the consumer does not know stops it with an InvalidArgumentError; the message stays unhandled.
      await client.writeMessage({ streamName: `${category}-1`, type: 'Poison' });
      const consumer = new Consumer(client, { category, identifier: 'w', onError: () => 'retyr' as never }).onAny(() => {
        throw new Error('poison');
      });
      const failure = await consumer.start().catch((error: unknown) => error);
      assert.ok(isInvalidArgumentError(failure) && failure.argument === 'onError', String(failure));
      assert.match((failure as Error).message, /must answer 'retry', 'skip', 'stop' or 'dead-letter' \(got "retyr"\)/);
      assert.ok(isHandlerError((failure as Error).cause));
      assert.deepEqual(await recordedPositions(client, consumer.positionStreamName), []);

      const streamName = deadLetterStreamName(category, 'w');
      for (const selection of [[], [-1], [1.5], 'some'] as const) {
        const error = await discardDeadLetters(client, streamName, selection as never).catch((e: unknown) => e);
        assert.ok(isInvalidArgumentError(error), `selection ${JSON.stringify(selection)}: ${String(error)}`);
      }
      const unknown = await requestDeadLetterReplay(client, streamName, [12345]).catch((e: unknown) => e);
      assert.ok(isConsumerError(unknown) && /No message at global position 12345 is parked/.test(unknown.message), String(unknown));
      assert.equal(await client.streamVersion(streamName), -1, 'nothing written');
      await assert.rejects(new Consumer(client, { category, identifier: 'w' }).replayDeadLetters(), (error: unknown) => isConsumerError(error));
    });
  });
}

describe('dead-letter metrics', () => {
  test('a consumer counts what it parked and replayed, and reports how many wait', async () => {
    const client = await postgresClient({ metrics: true });
    const category = randomCategory('deadMetrics');
    await client.writeMessages([0, 1].map((step) => ({ streamName: `${category}-1`, type: 'Stepped', data: { step } })));
    const [poison] = await client.getCategoryMessages(category);
    let failing = true;
    const { consumer, handled } = poisoned(
      client,
      category,
      () => poison?.globalPosition ?? -1,
      () => failing,
    );
    const running = consumer.start();
    await handled.count(1);
    const labels = { category, identifier: 'worker1' };
    const text = async (): Promise<string> => client.metrics().metrics();
    assert.equal(sample(await text(), 'messagedb_consumer_dead_letters_total', { ...labels, outcome: 'parked' }), 1);
    assert.equal(sample(await text(), 'messagedb_consumer_dead_letters_waiting', labels), 1);
    failing = false;
    await consumer.replayDeadLetters();
    const after = await text();
    assert.equal(sample(after, 'messagedb_consumer_dead_letters_total', { ...labels, outcome: 'replayed' }), 1);
    assert.equal(sample(after, 'messagedb_consumer_dead_letters_waiting', labels), 0);
    await consumer.stop();
    await running;
  });
});
