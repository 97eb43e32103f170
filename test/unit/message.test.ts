import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UndecodableValueError, UnsafeIntegerError } from '../../src/index.ts';
import { parseUtcTimestamp } from '../../src/vocabulary/message.ts';
import { toMessage } from '../../src/vocabulary/message.ts';

test('parseUtcTimestamp reads timestamp text as UTC with microseconds truncated to milliseconds', () => {
  assert.equal(parseUtcTimestamp('2026-11-26 23:49:31.123456').toISOString(), '2026-11-26T23:49:31.123Z');
  assert.equal(parseUtcTimestamp('2000-01-01 00:00:00').toISOString(), '2000-01-01T00:00:00.000Z');
  assert.equal(parseUtcTimestamp('2000-01-01 00:00:00.5').toISOString(), '2000-01-01T00:00:00.500Z');
  assert.throws(() => parseUtcTimestamp('infinity'), UndecodableValueError);
});

test('toMessage parses data and metadata, keeps NULL as null, and positions as numbers', () => {
  const message = toMessage(['id', 'a-1', 'T', '3', '17', '{"x": 1}', null, '2000-01-01 00:00:00']);
  assert.deepEqual(message, {
    id: 'id',
    streamName: 'a-1',
    type: 'T',
    position: 3,
    globalPosition: 17,
    data: { x: 1 },
    metadata: null,
    time: new Date('2000-01-01T00:00:00.000Z'),
  });
});

test('toMessage fails loudly on a global position past Number.MAX_SAFE_INTEGER', () => {
  assert.throws(() => toMessage(['id', 'a-1', 'T', '0', '9007199254740993', null, null, '2000-01-01 00:00:00']), UnsafeIntegerError);
});
