/**
 * Timing helpers: closed-loop throughput over a fixed duration, medians, and interleaved rounds.
 * Shared machines are noisy (BENCHMARKS.md records how much), so every figure is a median of rounds
 * in which the workloads being compared ran back to back.
 */

/** One timed run: how many messages were handled in how long. */
export interface Sample {
  messages: number;
  elapsedMs: number;
}

/** Messages per second of a sample. */
export function rate(sample: Sample): number {
  return sample.elapsedMs > 0 ? (sample.messages * 1000) / sample.elapsedMs : 0;
}

/**
 * Run `operation` back to back for `durationMs` on `concurrency` callers; each call returns how
 * many messages it handled. Returns the total, so the rate includes every round trip.
 */
export async function closedLoop(durationMs: number, operation: () => Promise<number>, concurrency = 1): Promise<Sample> {
  const started = performance.now();
  const deadline = started + durationMs;
  let messages = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      // Not `messages += await operation()`: that reads `messages` before awaiting, so concurrent
      // callers would overwrite each other's counts.
      const handled = await operation();
      messages += handled;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { messages, elapsedMs: performance.now() - started };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** A measurement the bench can repeat: one run returns messages per second (or NaN when unavailable). */
export interface Workload {
  /** Stable key, e.g. `client.single-write`. */
  key: string;
  /** Run once for about `durationMs`; returns messages per second. */
  run(durationMs: number): Promise<number>;
  /** Runs once per round for the whole duration instead of in slices: the consumer runs (a fixed number of messages). */
  whole?: boolean;
  /** How long its warm-up run takes (default 300 ms). */
  warmUpMs?: number;
}

/**
 * Run each sliced workload once before the rounds: prepared statements, JIT and pools are warm, so
 * round one is not the odd one out (and pgbench has a first rate that sizes its shorter runs).
 */
export async function warmUp(workloads: readonly Workload[]): Promise<void> {
  for (const workload of workloads) {
    if (workload.whole !== true) await workload.run(workload.warmUpMs ?? 300);
  }
}

/**
 * Workloads grouped by rows of keys (an anchor, a client, its peers), each workload in the first
 * row that names it, so compared workloads run side by side; workloads no row names get a group each.
 */
export function groupWorkloads(workloads: readonly Workload[], rows: readonly (readonly (string | undefined)[])[]): Workload[][] {
  const byKey = new Map(workloads.map((workload) => [workload.key, workload]));
  const placed = new Set<string>();
  const groups: Workload[][] = [];
  for (const keys of rows) {
    const group: Workload[] = [];
    for (const key of keys) {
      const workload = key === undefined ? undefined : byKey.get(key);
      if (workload === undefined || placed.has(workload.key)) continue;
      placed.add(workload.key);
      group.push(workload);
    }
    if (group.length > 0) groups.push(group);
  }
  for (const workload of workloads) if (!placed.has(workload.key)) groups.push([workload]);
  return groups;
}

/** Rates per workload key, one per round. */
export type Rounds = Map<string, number[]>;

const rotate = <T>(items: readonly T[], by: number): T[] => {
  const shift = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
};

/**
 * Run every group of compared workloads once per round. Within a group, the workloads that can be
 * sliced take turns in `slices` short slices (the rate of a round is the mean of its slices), and
 * the whole ones run once in the middle: a burst of load from another engineer's test suite then
 * lands on every side of a ratio, not on one. The order of groups and of turns is rotated each
 * round and reversed every other round, so no workload always runs first or after the same one.
 */
export async function interleave(
  groups: readonly (readonly Workload[])[],
  rounds: number,
  durationMs: number,
  onSample: (key: string, round: number, value: number) => void = () => {},
  slices = 4,
): Promise<Rounds> {
  const results: Rounds = new Map(groups.flat().map((workload) => [workload.key, []]));
  for (let round = 0; round < rounds; round++) {
    const rotated = rotate(groups, round);
    for (const group of round % 2 === 1 ? rotated.reverse() : rotated) {
      const sliced = group.filter((workload) => workload.whole !== true);
      const whole = group.filter((workload) => workload.whole === true);
      const sums = new Map<string, number>(sliced.map((workload) => [workload.key, 0]));
      for (let slice = 0; slice < slices; slice++) {
        if (slice === Math.floor(slices / 2)) {
          for (const workload of whole) {
            const value = await workload.run(durationMs);
            results.get(workload.key)?.push(value);
            onSample(workload.key, round, value);
          }
        }
        const turn = rotate(sliced, slice + round);
        for (const workload of slice % 2 === 1 ? turn.reverse() : turn) {
          sums.set(workload.key, (sums.get(workload.key) as number) + (await workload.run(durationMs / slices)));
        }
      }
      for (const workload of sliced) {
        const value = (sums.get(workload.key) as number) / slices;
        results.get(workload.key)?.push(value);
        onSample(workload.key, round, value);
      }
    }
  }
  return results;
}

/** The median of per-round ratios `numerator / denominator` (paired, so drift between rounds cancels). */
export function pairedRatio(rounds: Rounds, numerator: string, denominator: string): number {
  const top = rounds.get(numerator) ?? [];
  const bottom = rounds.get(denominator) ?? [];
  const ratios: number[] = [];
  for (let index = 0; index < Math.min(top.length, bottom.length); index++) {
    const a = top[index] as number;
    const b = bottom[index] as number;
    if (Number.isFinite(a) && Number.isFinite(b) && b > 0) ratios.push(a / b);
  }
  return median(ratios);
}
