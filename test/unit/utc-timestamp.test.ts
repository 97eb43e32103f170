import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUndecodableValueError } from '../../src/index.ts';
import { parseUtcTimestamp } from '../../src/vocabulary/message.ts';

// parseUtcTimestamp reads the usual shape at fixed offsets and falls back to a regular expression
// for any other: both paths must agree with the ISO reading of the same wall-clock time as UTC.

test('parseUtcTimestamp reads every fraction length from none to six digits', () => {
  const cases: Array<[string, string]> = [
    ['2026-11-27 00:10:51', '2026-11-27T00:10:51.000Z'],
    ['2026-11-27 00:10:51.1', '2026-11-27T00:10:51.100Z'],
    ['2026-11-27 00:10:51.12', '2026-11-27T00:10:51.120Z'],
    ['2026-11-27 00:10:51.123', '2026-11-27T00:10:51.123Z'],
    ['2026-11-27 00:10:51.1234', '2026-11-27T00:10:51.123Z'],
    ['2026-11-27 00:10:51.000001', '2026-11-27T00:10:51.000Z'],
    ['2026-11-27T00:10:51.999999', '2026-11-27T00:10:51.999Z'],
  ];
  for (const [text, iso] of cases) assert.equal(parseUtcTimestamp(text).toISOString(), iso, text);
});

test('parseUtcTimestamp agrees with the UTC reading of a timestamp for a spread of instants', () => {
  for (let epoch = 0; epoch < 4_102_444_800_000; epoch += 86_399_999_937) {
    const iso = new Date(epoch).toISOString();
    const text = `${iso.slice(0, 10)} ${iso.slice(11, 23)}456`;
    assert.equal(parseUtcTimestamp(text).getTime(), epoch, text);
  }
});

test('parseUtcTimestamp agrees with Date.UTC on every day from 1600 to 2400 (leap years, month and year ends)', () => {
  // The usual shape is read by arithmetic on the calendar, not by Date.UTC: every day is checked.
  for (let epoch = Date.UTC(1600, 0, 1); epoch < Date.UTC(2400, 0, 1); epoch += 86_400_000) {
    const iso = new Date(epoch + 86_399_999).toISOString();
    const text = `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
    assert.equal(parseUtcTimestamp(text).getTime(), epoch + 86_399_999, text);
  }
});

test('parseUtcTimestamp leaves out-of-range fields to Date.UTC, as before', () => {
  for (const text of [
    '2026-02-30 00:00:00',
    '2026-13-01 00:00:00',
    '2026-00-10 00:00:00',
    '2026-11-27 24:00:00',
    '2026-11-27 00:60:00',
    '0099-01-01 00:00:00',
  ]) {
    const [date = '', time = ''] = text.split(' ');
    const [year, month, day] = date.split('-').map(Number);
    const [hour, minute, second] = time.split(':').map(Number);
    assert.equal(parseUtcTimestamp(text).getTime(), Date.UTC(year as number, (month as number) - 1, day, hour, minute, second), text);
  }
});

test('parseUtcTimestamp reads a five-digit year through its fallback', () => {
  assert.equal(parseUtcTimestamp('10000-01-01 00:00:00').getTime(), Date.UTC(10000, 0, 1));
});

test('parseUtcTimestamp refuses text that is not an ISO timestamp without time zone, instead of giving an Invalid Date', () => {
  // The last three: what the server sends with DateStyle SQL, Postgres and German.
  for (const text of [
    '',
    'infinity',
    '2026-11-27 00:10:51.',
    '2026-11-27 00:10:51.12a',
    '2026-11-27 00:10:51+00',
    '2026-11-27 00:10:51.1234567',
    'x026-11-27 00:10:51',
    '11/27/2026 00:10:51.12',
    'Fri Nov 27 00:10:51.12 2026',
    '27.11.2026 00:10:51.12',
  ]) {
    assert.throws(
      () => parseUtcTimestamp(text),
      (error: unknown) => isUndecodableValueError(error) && error.column === 'time' && error.message.includes(JSON.stringify(text)),
      text,
    );
  }
});
