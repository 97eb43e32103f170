/**
 * Run a consumer until it has handled every message of its category, then stop it: a test waits
 * for that condition instead of sleeping.
 */
import { AssertionError } from 'node:assert';
import { type Consumer, type ConsumerStats, InvalidArgumentError } from '../index.js';

/** Options of `runUntilCaughtUp`. */
export interface RunUntilCaughtUpOptions {
  /**
   * Caught up once the consumer's position reaches this global position (default: the category's
   * head, read again until it no longer moves, so that messages the handlers write to the category
   * are handled too). A consumer group member needs it: the newest message may be another member's.
   */
  through?: number;
  /** Fail with an AssertionError when not caught up after this long (default 10000 ms). */
  timeoutMs?: number;
}

/** How often the position is checked while waiting. */
const checkIntervalMs = 5;

/**
 * Start the consumer (unless it is running), wait until it has handled the category through its
 * head, stop it (if this call started it) and return its stats. Rejects with the consumer's own
 * error when it fails (a handler that throws, without `onError`), and with an AssertionError naming
 * its position and the head when it is not caught up within `timeoutMs`.
 *
 * @example
 * await given(client, `${category}-1`, { type: 'Deposited', data: { amount: 10 } })
 * await runUntilCaughtUp(new Consumer(client, { category }).on('Deposited', onDeposited))
 */
export async function runUntilCaughtUp(consumer: Consumer, options: RunUntilCaughtUpOptions = {}): Promise<ConsumerStats> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new InvalidArgumentError('timeoutMs', `must be a positive integer (got ${String(timeoutMs)})`);
  const through = options.through;
  if (through !== undefined && (!Number.isSafeInteger(through) || through < 0)) {
    throw new InvalidArgumentError('through', `must be a global position (got ${String(through)})`);
  }
  const startedHere = consumer.state === 'stopped' || consumer.state === 'failed';
  let failure: { error: unknown } | undefined;
  const running = startedHere
    ? consumer.start().catch((error: unknown) => {
        failure = { error };
      })
    : undefined;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (failure !== undefined) throw failure.error;
      const stats = await consumer.stats();
      if (isCaughtUp(stats, through) && isReading(consumer)) {
        if (through !== undefined) return await finish(consumer, running);
        // Handlers may have written to the category while it was read: caught up only when a
        // second reading of the head finds nothing new.
        const again = await consumer.stats();
        if (again.categoryHead === stats.categoryHead && isCaughtUp(again, through)) return await finish(consumer, running);
        continue;
      }
      if (Date.now() > deadline) {
        throw new AssertionError({
          message:
            `Consumer of ${consumer.category} did not catch up within ${timeoutMs} ms: position ${String(stats.position)}, ` +
            `${through === undefined ? 'category head' : 'through'} ${String(through ?? stats.categoryHead)}, state ${stats.state}`,
          stackStartFn: runUntilCaughtUp,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, checkIntervalMs));
    }
  } catch (error) {
    if (running !== undefined) {
      await consumer.stop().catch(() => {});
      await running;
    }
    throw error;
  }

  async function finish(target: Consumer, run: Promise<void> | undefined): Promise<ConsumerStats> {
    if (run !== undefined) {
      await target.stop();
      await run;
      if (failure !== undefined) throw failure.error;
    }
    return target.stats();
  }
}

/** Past its start (its recorded position read) and not stopping. */
function isReading(consumer: Consumer): boolean {
  return consumer.state === 'catching up' || consumer.state === 'live';
}

function isCaughtUp(stats: ConsumerStats, through: number | undefined): boolean {
  const target = through ?? stats.categoryHead ?? 0;
  if (target === 0) return true;
  return stats.position !== null && stats.position >= target;
}
