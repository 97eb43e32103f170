/**
 * The test kit's helpers on the shared test client, each test in a random category: names, given
 * and written, expectations and their failure messages, the clock and id source, running a handler,
 * an entity store's handle, and a consumer until it is caught up.
 */
import assert, { AssertionError } from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Consumer, EntityStore, type Message, isCategory, isHandlerError, isInvalidArgumentError } from '../../src/index.ts';
import {
  closeSharedTestClient,
  expectNothingWritten,
  expectWritten,
  given,
  handleCommand,
  randomCategory,
  randomId,
  randomStreamName,
  runHandler,
  runUntilCaughtUp,
  sequentialIds,
  sharedTestClient,
  testClock,
  written,
} from '../../src/testing/index.ts';

after(() => closeSharedTestClient());

describe('names', () => {
  test('randomCategory gives a new category each call, keeping the base and its types', () => {
    const first = randomCategory('account');
    assert.match(first, /^account[0-9a-f]{16}$/);
    assert.notEqual(randomCategory('account'), first);
    assert.match(randomCategory('account:command'), /^account[0-9a-f]{16}:command$/);
    assert.match(randomCategory(), /^test[0-9a-f]{16}$/);
    assert.ok(isCategory(first));
  });

  test('randomCategory refuses a base that is not a category', () => {
    for (const base of ['account-1', '', ':command']) assert.throws(() => randomCategory(base), isInvalidArgumentError);
  });

  test('randomStreamName puts a random id in the given category, or in a random one', () => {
    const category = randomCategory('account');
    assert.match(randomStreamName(category), new RegExp(`^${category}-[0-9a-f-]{36}$`));
    assert.match(randomStreamName(category, '42'), new RegExp(`^${category}-42$`));
    assert.match(randomStreamName(), /^test[0-9a-f]{16}-[0-9a-f-]{36}$/);
    assert.notEqual(randomId(), randomId());
  });
});

describe('clock and ids', () => {
  test('testClock stands still until advanced or set, and each reading is a new Date', () => {
    const clock = testClock('2026-01-01T00:00:00Z');
    const reading = clock();
    assert.equal(reading.toISOString(), '2026-01-01T00:00:00.000Z');
    reading.setFullYear(1999);
    assert.equal(clock().toISOString(), '2026-01-01T00:00:00.000Z');
    clock.advance(1500);
    assert.equal(clock.now.toISOString(), '2026-01-01T00:00:01.500Z');
    clock.set(new Date('2030-06-01T12:00:00.000Z'));
    assert.equal(clock().toISOString(), '2030-06-01T12:00:00.000Z');
    assert.equal(testClock()().toISOString(), '2000-01-01T00:00:00.000Z');
    assert.throws(() => testClock('not a time'), /start must be a Date or an ISO-8601 time/);
    assert.throws(() => clock.advance(Number.NaN), isInvalidArgumentError);
  });

  test('sequentialIds counts UUIDs up from the first', () => {
    const ids = sequentialIds();
    assert.deepEqual([ids(), ids()], ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']);
    assert.equal(sequentialIds(255)(), '00000000-0000-4000-8000-0000000000ff');
    assert.throws(() => sequentialIds(-1), isInvalidArgumentError);
  });
});

describe('given, written and expectations', () => {
  test('given writes to the stream and returns the messages as stored; written reads them back, by type too', async () => {
    const client = await sharedTestClient();
    const stream = randomStreamName('account');
    const opened = await given(client, stream, { type: 'Opened', data: { owner: 'Ada' } });
    assert.equal(opened.streamName, stream);
    assert.equal(opened.position, 0);
    assert.deepEqual(opened.data, { owner: 'Ada' });
    const [first, second] = await given(client, stream, [
      { type: 'Deposited', data: { amount: 5 } },
      { type: 'Deposited', data: { amount: 7 }, metadata: { correlationStreamName: 'web-1' } },
    ]);
    assert.deepEqual([first?.position, second?.position], [1, 2]);
    assert.deepEqual(second?.metadata, { correlationStreamName: 'web-1' });
    assert.deepEqual(
      (await written(client, stream)).map((message) => message.type),
      ['Opened', 'Deposited', 'Deposited'],
    );
    assert.deepEqual(
      (await written<{ amount: number }>(client, stream, 'Deposited')).map((message) => message.data.amount),
      [5, 7],
    );
    await assert.rejects(given(client, stream, []), isInvalidArgumentError);
  });

  test('written reads a whole category when given one', async () => {
    const client = await sharedTestClient();
    const category = randomCategory('account');
    await given(client, `${category}-1`, { type: 'Opened' });
    await given(client, `${category}-2`, { type: 'Opened' });
    assert.deepEqual(
      (await written(client, category)).map((message) => message.streamName),
      [`${category}-1`, `${category}-2`],
    );
  });

  test('expectWritten returns the first message matching type, exact data and the metadata fields given', async () => {
    const client = await sharedTestClient();
    const stream = randomStreamName('account');
    await given(client, stream, [
      { type: 'Deposited', data: { amount: 5 } },
      { type: 'Deposited', data: { amount: 7 }, metadata: { correlationStreamName: 'web-1', schemaVersion: '2' } },
    ]);
    assert.equal((await expectWritten(client, stream, { type: 'Deposited' })).position, 0);
    assert.equal((await expectWritten(client, stream, { type: 'Deposited', data: { amount: 7 } })).position, 1);
    assert.equal((await expectWritten(client, stream, { type: 'Deposited', metadata: { schemaVersion: '2' } })).position, 1);
  });

  test("expectWritten's failure is an AssertionError that lists every message of the stream", async () => {
    const client = await sharedTestClient();
    const stream = randomStreamName('account');
    await given(client, stream, [
      { type: 'Opened', data: { owner: 'Ada' } },
      { type: 'Deposited', data: { amount: 5 } },
    ]);
    await assert.rejects(expectWritten(client, stream, { type: 'Deposited', data: { amount: 10 } }), (error) => {
      assert.ok(error instanceof AssertionError);
      const lines = error.message.split('\n');
      assert.equal(lines[0], `Expected a Deposited message with data {"amount":10} in ${stream}; it holds 2 messages:`);
      assert.match(lines[1] as string, new RegExp(`^  ${stream}/0 \\(global \\d+\\) Opened \\{"owner":"Ada"\\}$`));
      assert.match(lines[2] as string, new RegExp(`^  ${stream}/1 \\(global \\d+\\) Deposited \\{"amount":5\\}$`));
      assert.equal(lines.length, 3);
      assert.deepEqual(error.expected, { type: 'Deposited', data: { amount: 10 } });
      return true;
    });
    const empty = randomStreamName('account');
    await assert.rejects(expectWritten(client, empty, { type: 'Opened' }), {
      name: 'AssertionError',
      message: `Expected an Opened message in ${empty}; it holds no messages`,
    });
  });

  test('expectNothingWritten passes on an empty stream or one without the type, and fails listing the stream', async () => {
    const client = await sharedTestClient();
    const stream = randomStreamName('account');
    await expectNothingWritten(client, stream);
    await given(client, stream, { type: 'Deposited', data: { amount: 5 } });
    await expectNothingWritten(client, stream, 'Withdrawn');
    await assert.rejects(expectNothingWritten(client, stream, 'Deposited'), (error) => {
      assert.ok(error instanceof AssertionError);
      assert.match(
        error.message,
        new RegExp(`^Expected no Deposited message in ${stream}; it holds 1 message:\\n  ${stream}/0 .* Deposited \\{"amount":5\\}$`),
      );
      return true;
    });
    await assert.rejects(expectNothingWritten(client, stream), /^AssertionError \[ERR_ASSERTION\]: Expected no message in /);
  });
});

interface Account {
  balance: number;
}

describe('running the code under test', () => {
  test('runHandler calls a handler with the message and a consumer context, and lets its error through as it is', async () => {
    const client = await sharedTestClient();
    const category = randomCategory('account');
    const deposited = await given(client, `${category}-1`, { type: 'Deposited', data: { amount: 10 } });
    const onDeposited = async (message: Message<{ amount: number }>, context: { client: typeof client; consumer: Consumer; signal: AbortSignal }) => {
      assert.equal(context.consumer.category, category);
      assert.equal(context.signal.aborted, false);
      await context.client.writeMessage({ streamName: `${category}Balance-1`, type: 'BalanceChanged', data: { balance: message.data.amount } });
    };
    await runHandler(client, onDeposited, deposited);
    await expectWritten(client, `${category}Balance-1`, { type: 'BalanceChanged', data: { balance: 10 } });

    const failure = new Error('no such account');
    await assert.rejects(
      runHandler(
        client,
        () => {
          throw failure;
        },
        deposited,
      ),
      (error) => error === failure,
    );
    await assert.rejects(
      runHandler(client, onDeposited, { type: 'Deposited', data: {} } as unknown as Message<{ amount: number }>),
      /write it with given\(\) first/,
    );
  });

  test('handleCommand runs the entity store’s handle following the command, and returns what it wrote', async () => {
    const client = await sharedTestClient();
    const category = randomCategory('account');
    const clock = testClock('2026-03-01T10:00:00.000Z');
    const accounts = new EntityStore<Account>(client, {
      category,
      entity: () => ({ balance: 0 }),
      projection: {
        Deposited: (account, data: { amount: number }) => {
          account.balance += data.amount;
        },
      },
      snapshot: { interval: 1 },
      clock,
    });
    await given(client, `${category}-7`, { type: 'Deposited', data: { amount: 30 } });
    const command = await given(client, `${category}:command-7`, { type: 'Withdraw', data: { amount: 10 } });
    const events = await handleCommand(client, accounts, command, (account) =>
      account.balance >= 10 ? { type: 'Withdrawn', data: { amount: 10, balance: account.balance - 10 } } : null,
    );
    assert.deepEqual(
      events.map((message) => [message.streamName, message.position, message.type, message.data]),
      [[`${category}-7`, 1, 'Withdrawn', { amount: 10, balance: 20 }]],
    );
    assert.equal(events[0]?.metadata?.causationMessageStreamName, command.streamName);
    assert.equal(events[0]?.metadata?.causationMessageGlobalPosition, command.globalPosition);
    // The snapshot the fetch took records the test clock's time.
    const [snapshot] = await written(client, `${category}:snapshot-7`);
    assert.deepEqual(snapshot?.data, { entityData: { balance: 30 }, entityVersion: 0, time: '2026-03-01T10:00:00.000Z' });

    assert.throws(() => new EntityStore<Account>(client, { category, entity: () => ({ balance: 0 }), projection: {}, clock: 'now' as unknown as () => Date }), {
      message: 'clock must be a function (got string)',
    });

    const refused = await given(client, `${category}:command-7`, { type: 'Withdraw', data: { amount: 100 } });
    assert.deepEqual(await handleCommand(client, accounts, refused, () => null), []);
    // A command whose stream has no id (as read from a category, say) needs the id given.
    await assert.rejects(
      handleCommand(client, accounts, { ...refused, streamName: `${category}:command` }, () => null),
      /options\.id is needed/,
    );
    const byId = await handleCommand(client, accounts, refused, () => ({ type: 'Deposited', data: { amount: 1 } }), { id: '8' });
    assert.equal(byId[0]?.streamName, `${category}-8`);
  });

  test('runUntilCaughtUp handles the whole category, including what handlers write to it, then stops the consumer', async () => {
    const client = await sharedTestClient();
    const category = randomCategory('account');
    for (let n = 1; n <= 5; n++) await given(client, `${category}-${n}`, { type: 'Deposited', data: { amount: n } });
    const seen: string[] = [];
    const consumer = new Consumer(client, { category })
      .on('Deposited', async (message, { client: handlerClient }) => {
        seen.push(message.streamName);
        // A message written to the consumer's own category while it runs.
        if (message.streamName === `${category}-5`) await handlerClient.writeMessage({ streamName: `${category}-6`, type: 'Audited' });
      })
      .on('Audited', (message) => void seen.push(message.streamName));
    const stats = await runUntilCaughtUp(consumer);
    assert.deepEqual(
      seen,
      [1, 2, 3, 4, 5, 6].map((n) => `${category}-${n}`),
    );
    assert.equal(stats.state, 'stopped');
    assert.equal(stats.lag, 0);
    assert.equal(stats.handled, 6);
    assert.equal(consumer.state, 'stopped');

    // Started again, it resumes after its recorded position and catches up at once.
    const again = await runUntilCaughtUp(consumer);
    assert.equal(again.lag, 0);
    assert.deepEqual(seen.length, 6 + 1, 'only the last recorded message is delivered again (at-least-once)');
  });

  test('runUntilCaughtUp on an empty category returns once the consumer has started', async () => {
    const client = await sharedTestClient();
    const stats = await runUntilCaughtUp(new Consumer(client, { category: randomCategory() }));
    assert.equal(stats.handled, 0);
    assert.equal(stats.state, 'stopped');
  });

  test('runUntilCaughtUp rejects with the consumer’s own error when a handler fails', async () => {
    const client = await sharedTestClient();
    const category = randomCategory('account');
    await given(client, `${category}-1`, { type: 'Deposited', data: { amount: 1 } });
    const consumer = new Consumer(client, { category }).on('Deposited', () => {
      throw new Error('boom');
    });
    await assert.rejects(runUntilCaughtUp(consumer), (error) => isHandlerError(error) && (error.cause as Error).message === 'boom');
    assert.equal(consumer.state, 'failed');
  });

  test('runUntilCaughtUp fails with an AssertionError naming the position when the target is not reached in time', async () => {
    const client = await sharedTestClient();
    const category = randomCategory('account');
    const [message] = await given(client, `${category}-1`, [{ type: 'Deposited' }]);
    const consumer = new Consumer(client, { category });
    const through = (message?.globalPosition ?? 0) + 1_000_000;
    await assert.rejects(runUntilCaughtUp(consumer, { through, timeoutMs: 300 }), (error) => {
      assert.ok(error instanceof AssertionError);
      assert.match(
        error.message,
        new RegExp(
          `^Consumer of ${category} did not catch up within 300 ms: position ${message?.globalPosition}, through ${through}, state (live|catching up)$`,
        ),
      );
      return true;
    });
    assert.equal(consumer.state, 'stopped', 'the consumer it started is stopped');
    await assert.rejects(runUntilCaughtUp(consumer, { timeoutMs: 0 }), isInvalidArgumentError);
  });
});
