/**
 * One read replica: its own pool, how far it has replayed the primary's WAL, and whether it may
 * serve reads. A replica that fails is marked down and skipped; once its retry delay has passed,
 * the next read that looks for a replica starts a probe in the background, and only a probe that
 * succeeds lets reads back onto it. Reads never wait on a replica that is down.
 */
import type { PoolStats } from '../engine/engine.js';
import { PostgresEngine } from '../engine/postgres.js';
import { ClosedError } from '../vocabulary/errors.js';
import { createRunner, type Runner } from '../engine/runner.js';
import * as sql from '../vocabulary/sql.js';
import type { ResolvedReplica } from './replica-config.js';
import { lsnValue, type WriteToken } from './write-token.js';

/** `up`: serves reads; `down`: failed, skipped until a probe after the retry delay succeeds. */
export type ReplicaState = 'up' | 'down';

/** What one status query told about a replica. */
export interface ReplicaStatus {
  /** The WAL position it has replayed. */
  replayed: bigint;
  replayedToken: WriteToken;
  inRecovery: boolean;
  /** Seconds since the last transaction it replayed was committed on the primary, or null. */
  replayAgeSeconds: number | null;
}

export class Replica {
  readonly target: string;
  readonly label: string;
  /** Runs reads with one try: a failure sends the read elsewhere instead of retrying here. */
  readonly runner: Runner;
  readonly #engine: PostgresEngine;
  readonly #retryDelayMs: number;
  #state: ReplicaState = 'down';
  #retryAt = 0;
  #laggingUntil = 0;
  #status: ReplicaStatus | undefined;
  #refreshing: Promise<ReplicaStatus> | undefined;
  #probing: Promise<void> | undefined;
  #closed = false;
  /** Reads this replica served. */
  reads = 0;
  /** Times it went from up to down. */
  failures = 0;

  constructor(config: ResolvedReplica, retryDelayMs: number) {
    this.target = config.target;
    this.label = config.label;
    this.#retryDelayMs = retryDelayMs;
    this.#engine = new PostgresEngine(config.engine);
    this.runner = createRunner(this.#engine, undefined, () => this.#closed);
  }

  get state(): ReplicaState {
    return this.#state;
  }

  /** The WAL position it had replayed at its last status query, or null before the first. */
  get replayed(): bigint | null {
    return this.#status?.replayed ?? null;
  }

  /** The last status query's answer, if any. */
  get status(): ReplicaStatus | undefined {
    return this.#status;
  }

  /**
   * Ask the replica how far it has replayed. Concurrent callers share one query (reads waiting for
   * the same replica do not each poll it). Rejects when the replica cannot be reached.
   */
  refresh(): Promise<ReplicaStatus> {
    if (this.#closed) return Promise.reject(new ClosedError('MessageDbClient'));
    this.#refreshing ??= this.runner.run(sql.replicaStatus, []).then(
      (rows) => {
        this.#refreshing = undefined;
        const [position, inRecovery, age] = rows[0] ?? [];
        const replayedToken = String(position);
        this.#status = {
          replayed: lsnValue(replayedToken),
          replayedToken,
          inRecovery: inRecovery === true || inRecovery === 't',
          replayAgeSeconds: age === null || age === undefined ? null : Number(age),
        };
        return this.#status;
      },
      (error: unknown) => {
        this.#refreshing = undefined;
        throw error;
      },
    );
    return this.#refreshing;
  }

  /** True when reads may go here now. A down replica whose retry time has come gets a background probe. */
  available(now: number): boolean {
    if (this.#state === 'up') return true;
    if (now >= this.#retryAt && !this.#closed) this.#probing ??= this.probe();
    return false;
  }

  /** Check the replica: up when it answers, else down until the retry delay has passed. Never rejects. */
  probe(): Promise<void> {
    return this.refresh().then(
      () => {
        this.#state = 'up';
        this.#probing = undefined;
      },
      () => {
        this.markDown();
        this.#probing = undefined;
      },
    );
  }

  /**
   * A read's wait for this replica's replay timed out: for the retry delay, reads that would have to
   * wait for it go elsewhere at once instead of each waiting out their own timeout.
   */
  markLagging(): void {
    this.#laggingUntil = Date.now() + this.#retryDelayMs;
  }

  /** True while a recent wait for this replica timed out (see {@link markLagging}). */
  lagging(now: number): boolean {
    return now < this.#laggingUntil;
  }

  /** The replica failed (or did not answer a probe): skip it until the retry delay has passed. */
  markDown(): void {
    if (this.#state === 'up') this.failures++;
    this.#state = 'down';
    this.#retryAt = Date.now() + this.#retryDelayMs;
  }

  poolStats(): PoolStats {
    return this.#engine.poolStats();
  }

  get maxConnections(): number {
    return this.#engine.maxConnections;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#engine.close();
  }
}
