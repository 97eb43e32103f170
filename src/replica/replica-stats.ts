/**
 * What `client.replicaStats()` reports: each replica's state and lag, and where the client's reads
 * went. Lag is measured against the primary's WAL position at the time of the call.
 */
import type { PoolStats } from '../engine/engine.js';
import type { ReplicaState } from './replica.js';
import type { WriteToken } from './write-token.js';

/** One replica's figures. */
export interface ReplicaStats {
  /** The connection string, password removed. */
  target: string;
  /** `host:port/database`: the `replica` label of the metrics. */
  name: string;
  /** `up` serves reads; `down` failed and is skipped until a check after `replicaRetryDelayMs` succeeds. */
  state: ReplicaState;
  /** The WAL position it has replayed (when it was last asked), or null before it ever answered. */
  replayPosition: WriteToken | null;
  /** WAL bytes the primary has written that the replica has not replayed yet; null when down. */
  lagBytes: number | null;
  /**
   * How stale the replica is: 0 when it has replayed everything, else the age of the newest
   * transaction it has replayed (since its commit on the primary); null when down or unknown.
   */
  lagSeconds: number | null;
  /** Reads it served. */
  reads: number;
  /** Times it went from up to down. */
  failures: number;
  pool: PoolStats;
}

/** A client's replicas and its read routing. */
export interface ReplicaSetStats {
  /** The client's write token (the primary's WAL position after its newest write), or null. */
  writeToken: WriteToken | null;
  /** The primary's WAL flush position now (lag is measured against it), or null when it could not be read. */
  primaryPosition: WriteToken | null;
  /** Reads served by a replica. */
  readsOnReplicas: number;
  /**
   * Reads served by the primary, by reason: `requested` (`primary: true`), `unavailable` (no
   * replica up), `lagging` (no replica replayed the read's write token in time), `conflict` (a
   * standby cancelled the query to replay WAL).
   */
  readsOnPrimary: { requested: number; unavailable: number; lagging: number; conflict: number };
  /** Reads whose write token a replica was not yet known to have replayed: they asked it (and waited if it had not). */
  waits: number;
  replicas: ReplicaStats[];
}
