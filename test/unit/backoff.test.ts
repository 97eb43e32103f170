/** The package's one backoff: doubling, capped, and each jitter's range. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../src/engine/runner.ts';

const delays = { initialDelayMs: 10, maxDelayMs: 100 };

test('without jitter the delay doubles from the initial delay and stops at the cap', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, delays, 'none')),
    [10, 20, 40, 80, 100, 100],
  );
});

test('equal jitter stays between half the planned delay and all of it; full jitter between 0 and it', () => {
  for (let attempt = 1; attempt <= 6; attempt++) {
    const planned = backoffDelay(attempt, delays, 'none');
    const equal = Array.from({ length: 200 }, () => backoffDelay(attempt, delays));
    const full = Array.from({ length: 200 }, () => backoffDelay(attempt, delays, 'full'));
    assert.ok(
      equal.every((delay) => delay >= planned / 2 && delay <= planned),
      `equal jitter, attempt ${attempt}: ${Math.min(...equal)}..${Math.max(...equal)}`,
    );
    assert.ok(
      full.every((delay) => delay >= 0 && delay <= planned),
      `full jitter, attempt ${attempt}`,
    );
    // Jitter spreads: 200 draws are not all one value, and full jitter reaches below half.
    assert.ok(new Set(equal).size > 1 && full.some((delay) => delay < planned / 2));
  }
});
