/**
 * Dead-letter streams' pure parts: the stream name in Eventide's style, the parked copy and the
 * original read back from it, the fold of decision records, and error texts without credentials.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeadLetterFold, deadLetterStreamName, failureError, parkedCopy, parkedCopyId } from '../../src/consumer/dead-letter-stream.ts';
import { isInvalidArgumentError, type Message } from '../../src/index.ts';

const original: Message = {
  id: '6772cf9d-0feb-4e74-9699-e86bc438bae2',
  streamName: 'account-123',
  type: 'Withdrawn',
  position: 4,
  globalPosition: 1234,
  data: { amount: 5 },
  metadata: {
    correlationStreamName: 'transfer-9',
    causationMessageStreamName: 'account:command-123',
    causationMessagePosition: 2,
    causationMessageGlobalPosition: 1200,
  },
  time: new Date('2026-12-03T07:41:20.994Z'),
};

/** A stored record made from a NewMessage, as a read would return it. */
const stored = (
  message: { streamName: string; type: string; data?: unknown; metadata?: Message['metadata'] },
  position: number,
  time = new Date(),
): Message => ({
  id: `00000000-0000-0000-0000-${String(position).padStart(12, '0')}`,
  streamName: message.streamName,
  type: message.type,
  position,
  globalPosition: 5000 + position,
  data: message.data ?? null,
  metadata: message.metadata ?? null,
  time,
});

describe('dead-letter streams', () => {
  test('are named like position streams, with the category type deadLetter', () => {
    assert.equal(deadLetterStreamName('account', 'worker1'), 'account:deadLetter-worker1');
    assert.equal(deadLetterStreamName('account:command', 'worker1'), 'account:command+deadLetter-worker1');
    assert.equal(deadLetterStreamName('account:command+deadLetter', 'x'), 'account:command+deadLetter-x');
    assert.throws(() => deadLetterStreamName('account-1', 'x'), isInvalidArgumentError);
    assert.throws(() => deadLetterStreamName('account', ''), isInvalidArgumentError);
  });

  test('a parked copy keeps type, data and metadata, gains the causation of the original, and gives the original back', () => {
    const failure = {
      error: { name: 'Error', message: 'no' },
      attempts: 3,
      consumer: { category: 'account', identifier: 'w' },
      time: '2026-12-03T07:41:21.130Z',
    };
    const copy = parkedCopy('account:deadLetter-w', original, failure, 0);
    assert.equal(copy.type, 'Withdrawn');
    assert.deepEqual(copy.data, { amount: 5 });
    assert.equal(copy.metadata?.correlationStreamName, 'transfer-9');
    assert.equal(copy.metadata?.causationMessageStreamName, 'account-123');
    assert.equal(copy.metadata?.causationMessagePosition, 4);
    assert.equal(copy.metadata?.causationMessageGlobalPosition, 1234);
    assert.equal(copy.id, parkedCopyId('account:deadLetter-w', 1234, 0), 'a fixed id');
    assert.notEqual(parkedCopyId('account:deadLetter-w', 1234, 1), copy.id, 'the next copy has its own');
    const fold = new DeadLetterFold();
    const letter = fold.add(stored(copy, 0));
    assert.deepEqual(letter?.message, original);
    assert.equal(letter?.state, 'parked');
  });

  test('decision records move a parked message between states; a decided one stays decided, except that Replayed always wins', () => {
    const failure = {
      error: { name: 'Error', message: 'no' },
      attempts: 1,
      consumer: { category: 'account', identifier: 'w' },
      time: '2026-12-03T07:41:21.130Z',
    };
    const fold = new DeadLetterFold();
    const stream = 'account:deadLetter-w';
    fold.add(stored(parkedCopy(stream, original, failure, 0), 0));
    const decide = (type: string, position: number, reason?: string) => {
      fold.add(stored({ streamName: stream, type, data: { globalPosition: 1234, reason } }, position));
      return fold.get(1234)?.state;
    };
    assert.equal(decide('ReplayRequested', 1), 'replay requested');
    assert.equal(decide('ReplayFailed', 2, 'no again'), 'parked');
    assert.equal(fold.get(1234)?.reason, 'no again');
    assert.equal(decide('Discarded', 3), 'discarded');
    assert.equal(decide('ReplayRequested', 4), 'discarded', 'a discarded message cannot be requested');
    assert.equal(decide('Replayed', 5), 'replayed', 'the handlers ran');
    assert.deepEqual(fold.counts(), { parked: 1, replayed: 1, discarded: 0, waiting: 0 });
    assert.equal(fold.version, 5);
    assert.equal(fold.add(stored({ streamName: stream, type: 'Discarded', data: { globalPosition: 99 } }, 6)), undefined, 'about nothing parked');
  });

  test('the recorded error is the handler error’s cause, with a password in a URL replaced', () => {
    const cause = Object.assign(new Error('cannot reach postgres://app:s3cret@db.example.com/bank'), { code: 'ECONNREFUSED' });
    const recorded = failureError(new Error('Handler failed', { cause }));
    assert.deepEqual(recorded, { name: 'Error', message: 'cannot reach postgres://app:***@db.example.com/bank', code: 'ECONNREFUSED' });
    assert.deepEqual(failureError('a string'), { name: 'string', message: 'a string' });
  });
});
