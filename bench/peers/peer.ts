/** What a peer client offers the bench: its workloads, and how to release its connections. */
import type { Workload } from '../../src/cli/bench/measure.ts';

export interface PeerConnection {
  workloads: Workload[];
  /** Rows a peer cannot provide, each with the reason, for BENCHMARKS.md. */
  notes?: string[];
  close(): Promise<void>;
}
