/**
 * A clock and an id source that tests control, so that what a test writes is the same on every run:
 * an entity store's snapshots (`clock` option) and the ids of messages written without one (the
 * client's `messageId` option).
 */
import { InvalidArgumentError } from '../index.js';

/** A clock for the `clock` options: call it for the current time; it moves only when told. */
export interface TestClock {
  (): Date;
  /** The current time, as the clock reads it. */
  readonly now: Date;
  /** Move the clock forward (or back, with a negative number) by `ms` milliseconds. */
  advance(ms: number): void;
  /** Set the clock to `time`. */
  set(time: Date | string): void;
}

function timeOf(argument: string, time: Date | string): number {
  const ms = (typeof time === 'string' ? new Date(time) : time)?.getTime?.();
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw new InvalidArgumentError(argument, `must be a Date or an ISO-8601 time (got ${String(time)})`);
  return ms;
}

/**
 * A clock standing at `start` (default 2000-01-01T00:00:00.000Z) until moved; each reading is a new
 * Date, so changing one changes nothing else.
 *
 * @example
 * const clock = testClock('2026-01-01T00:00:00Z')
 * const accounts = new EntityStore(client, { ...config, clock })
 * clock.advance(60_000)
 */
export function testClock(start: Date | string = '2000-01-01T00:00:00.000Z'): TestClock {
  let current = timeOf('start', start);
  const clock = (() => new Date(current)) as TestClock;
  Object.defineProperty(clock, 'now', { get: () => new Date(current), enumerable: true });
  clock.advance = (ms) => {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new InvalidArgumentError('ms', `must be a finite number (got ${String(ms)})`);
    current += ms;
  };
  clock.set = (time) => {
    current = timeOf('time', time);
  };
  return clock;
}

/**
 * An id source for the client's `messageId` option: UUIDs counting up from `first`
 * (`00000000-0000-4000-8000-000000000001`, `…-000000000002`, …). Give two sources different
 * `first` values when both write to one store: a repeated id makes a write fail.
 *
 * @example
 * const client = await createTestClient({ messageId: sequentialIds() })
 */
export function sequentialIds(first = 1): () => string {
  if (!Number.isSafeInteger(first) || first < 0) throw new InvalidArgumentError('first', `must be a non-negative integer (got ${String(first)})`);
  let next = first;
  return () => `00000000-0000-4000-8000-${(next++).toString(16).padStart(12, '0')}`;
}
