/** Consumer rows (filled in below once src/index.ts exports Consumer). */
import type { Rounds } from './measure.ts';

export interface ConsumerRow {
  label: string;
  throughput?: number;
  vsPgbench?: number;
  clientVsThis?: number;
  p50Ms?: number;
  p99Ms?: number;
  target?: string;
}

export async function runConsumerBench(_url: string, _rounds: Rounds | undefined, _log: (line: string) => void): Promise<{ rows: ConsumerRow[]; notes: string[] }> {
  return { rows: [], notes: ['Consumer rows: src/index.ts does not export `Consumer` yet.'] };
}
