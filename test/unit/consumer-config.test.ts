/**
 * Pure consumer pieces: position stream names (Eventide's algorithm), notify channels, and the
 * checks a configuration passes before any SQL runs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { InvalidArgumentError, consumerGroupMember } from '../../src/index.ts';
import { resolveConsumerConfig } from '../../src/consumer/consumer-config.ts';
import { isConsumerGroupStream } from '../../src/consumer/consumer-group.ts';
import { notifyChannel } from '../../src/consumer/notify-trigger.ts';
import { positionStreamName } from '../../src/consumer/position-store.ts';

function rejects(argument: string, build: () => unknown): void {
  assert.throws(build, (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument);
}

describe("position stream names (Eventide's convention)", () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['account', undefined, 'account:position'],
    ['account', 'worker1', 'account:position-worker1'],
    ['account', 'worker-1', 'account:position-worker-1'],
    ['account:command', undefined, 'account:command+position'],
    ['account:command', 'someUniqueIdentifier', 'account:command+position-someUniqueIdentifier'],
    ['account:command+event', 'x', 'account:command+event+position-x'],
    ['account:position', 'x', 'account:position-x'],
  ];
  for (const [category, identifier, expected] of cases) {
    test(`${category} with identifier ${identifier ?? '(none)'} records in ${expected}`, () => {
      assert.equal(positionStreamName(category, identifier), expected);
    });
  }

  test('a stream name is not accepted as the category', () => {
    rejects('category', () => positionStreamName('account-1'));
  });
});

describe('notify channels', () => {
  test('a short category is named in the channel', () => {
    assert.equal(notifyChannel('account:command'), 'messagedb:account:command');
  });

  test('a category whose channel would pass 63 bytes is hashed, as the trigger does', () => {
    const long = 'a'.repeat(54);
    assert.equal(notifyChannel(long), `messagedb:${createHash('md5').update(long).digest('hex')}`);
    assert.equal(notifyChannel('a'.repeat(53)), `messagedb:${'a'.repeat(53)}`);
    // Bytes, not characters: 27 two-byte letters are 54 bytes.
    assert.match(notifyChannel('é'.repeat(27)), /^messagedb:[0-9a-f]{32}$/);
  });
});

describe('consumer configuration', () => {
  test("defaults are Eventide's: batch size 1000, poll interval 100 ms, position update interval 100", () => {
    const config = resolveConsumerConfig({ category: 'account' });
    assert.equal(config.batchSize, 1000);
    assert.equal(config.pollIntervalMs, 100);
    assert.equal(config.positionUpdateInterval, 100);
    assert.equal(config.concurrency, 1);
    assert.equal(config.strict, false);
    assert.equal(config.listen, false);
  });

  test('a consumer group member without an identifier is refused, as in Eventide', () => {
    rejects('identifier', () => resolveConsumerConfig({ category: 'account', consumerGroup: { member: 0, size: 2 } }));
  });

  test('a consumer group member with an identifier is accepted', () => {
    const config = resolveConsumerConfig({ category: 'account', identifier: 'w0', consumerGroup: { member: 1, size: 2 } });
    assert.deepEqual(config.consumerGroup, { member: 1, size: 2 });
  });

  test('each bad value is refused naming its argument', () => {
    rejects('category', () => resolveConsumerConfig({ category: 'account-1' }));
    rejects('identifier', () => resolveConsumerConfig({ category: 'account', identifier: '' }));
    rejects('batchSize', () => resolveConsumerConfig({ category: 'account', batchSize: 0 }));
    rejects('batchSize', () => resolveConsumerConfig({ category: 'account', batchSize: -1 }));
    rejects('pollIntervalMs', () => resolveConsumerConfig({ category: 'account', pollIntervalMs: 1.5 }));
    rejects('positionUpdateInterval', () => resolveConsumerConfig({ category: 'account', positionUpdateInterval: 0 }));
    rejects('concurrency', () => resolveConsumerConfig({ category: 'account', concurrency: 0 }));
    rejects('consumerGroup.member', () => resolveConsumerConfig({ category: 'account', identifier: 'w', consumerGroup: { member: 2, size: 2 } }));
    rejects('correlation', () => resolveConsumerConfig({ category: 'account', correlation: 'other-1' }));
    rejects('strict', () => resolveConsumerConfig({ category: 'account', strict: 'yes' as unknown as boolean }));
    rejects('onError', () => resolveConsumerConfig({ category: 'account', onError: 'stop' as never }));
    rejects('concurrencyKey', () => resolveConsumerConfig({ category: 'account', concurrencyKey: 'id' as never }));
    rejects('retry.maxDelayMs', () => resolveConsumerConfig({ category: 'account', retry: { initialDelayMs: 100, maxDelayMs: 50 } }));
  });

  test('isConsumerGroupStream agrees with consumerGroupMember', () => {
    for (const name of ['account-1', 'account-2+x', 'account-abc']) {
      const member = consumerGroupMember(name, 3);
      assert.equal(isConsumerGroupStream(name, { member: member ?? -1, size: 3 }), true);
    }
  });
});
