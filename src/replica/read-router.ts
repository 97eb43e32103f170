/**
 * Read routing over a primary and its hot-standby replicas. Reads go round robin to the replicas
 * that are up; writes, transactions and position records never come here (they stay on the
 * primary). A read with a write token is served only where that token has been replayed: a
 * replica already past it, else one that catches up within `replicaWaitMs`, else the primary.
 * A replica that fails is marked down and the read moves on to the next one, then to the primary.
 *
 * Replicas replay the primary's WAL in commit order, and Message DB's per-category write lock makes
 * commit order global-position order within a category; so a replica always shows a prefix of each
 * category, and a read can never see a later message of a category without the earlier ones.
 */
import { InvalidArgumentError, isAbortError, isConnectionError, isPoolTimeoutError } from '../vocabulary/errors.js';
import { backoffDelay, sleep, type RunOptions, type Runner } from '../engine/runner.js';
import * as sql from '../vocabulary/sql.js';
import type { Statement } from '../vocabulary/sql.js';
import { Replica } from './replica.js';
import type { ResolvedReplicaConfig } from './replica-config.js';
import type { ReplicaSetStats, ReplicaStats } from './replica-stats.js';
import { afterPosition, lsnValue, type WriteToken } from './write-token.js';

/** How often a read waiting for a replica to replay a write token looks again: 1, 2, 4, ... 32 ms. */
const replayPolling = { initialDelayMs: 1, maxDelayMs: 32 };

/** Where a read may go and what it must see; every read takes these options. */
export interface ReadRouteOptions {
  /** Read on the primary even when the client has read replicas. */
  primary?: boolean;
  /**
   * Read only where this write token has been replayed: a replica waits for it (up to
   * `replicaWaitMs`), then the primary answers. `null`: take a replica as it is. Omitted: the
   * client's own latest write when `readYourWrites` is on (the default), else no wait.
   */
  after?: WriteToken | null;
}

/** Why a read went to the primary. */
export type PrimaryReadReason = 'requested' | 'unavailable' | 'lagging' | 'conflict';

interface Route {
  primary: boolean;
  /** The WAL position the read must see, or null. */
  after: bigint | null;
}

/** Check `primary`; throws InvalidArgumentError naming it. */
function primaryOption(value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidArgumentError('primary', `must be a boolean (got ${typeof value})`);
  return value === true;
}

/**
 * A runner that fails every statement with `error`: how a bad route option is reported when the
 * read runs (a rejection, like every other argument check), before any SQL.
 */
function failing(error: unknown): Runner {
  return { transactional: false, run: () => Promise.reject(error) };
}

/**
 * Where there is nothing to route (no replicas, or a transaction) `primary` and `after` change
 * nothing, but bad values are still refused: a runner that reports the error, or undefined.
 */
export function checkRouteOptions(options: ReadRouteOptions | undefined): Runner | undefined {
  if (options?.primary === undefined && options?.after === undefined) return undefined;
  try {
    primaryOption(options.primary);
    if (options.after !== undefined) afterPosition(options.after);
    return undefined;
  } catch (error) {
    return failing(error);
  }
}

/**
 * A read failed because of the replica, not the statement: it could not be reached or logged into
 * (a database it has not replayed yet, a full server), so another server may well answer.
 */
function isReplicaFault(error: unknown): boolean {
  if (isConnectionError(error) || isPoolTimeoutError(error)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === '3D000' || code === '53300' || code === '57P04' || code.startsWith('28'));
}

/**
 * A standby cancels a query whose snapshot conflicts with the WAL it must replay (SQLSTATE 40001,
 * or 40P01 for a buffer-pin deadlock): the statement was fine, the primary can answer it.
 */
function isRecoveryConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/** Routes one client's reads over its primary and replicas, and keeps its write token. */
export class ReadRouter {
  readonly replicas: readonly Replica[];
  readonly #primary: Runner;
  readonly #config: ResolvedReplicaConfig;
  #next = 0;
  #token: bigint | null = null;
  #tokenText: WriteToken | null = null;
  #readsOnReplicas = 0;
  readonly #readsOnPrimary: Record<PrimaryReadReason, number> = { requested: 0, unavailable: 0, lagging: 0, conflict: 0 };
  #waits = 0;
  #stats: Promise<ReplicaSetStats> | undefined;
  /**
   * Set by the client when metrics are on: each read's server (a replica's label, or `primary`) and
   * reason (`routed` for a replica, else a {@link PrimaryReadReason}).
   */
  onRoute: ((target: string, reason: string) => void) | undefined;
  /** Set by the client when metrics are on: how long a read waited for a replica to replay its token. */
  onWait: ((seconds: number) => void) | undefined;

  constructor(primary: Runner, config: ResolvedReplicaConfig) {
    this.#primary = primary;
    this.#config = config;
    this.replicas = config.replicas.map((replica) => new Replica(replica, config.retryDelayMs));
  }

  /** Check every replica once (at connect): those that answer are up, the others are retried later. */
  async probeAll(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.probe()));
  }

  /** The primary's WAL position after this client's newest write, or null before its first. */
  get writeToken(): WriteToken | null {
    return this.#tokenText;
  }

  /**
   * A runner for one read with these options. A bad `after` or `primary` is reported when the read
   * runs, before any SQL.
   */
  runner(options: ReadRouteOptions | undefined): Runner {
    let route: Route;
    try {
      route = this.#route(options);
    } catch (error) {
      return failing(error);
    }
    return { transactional: false, run: (statement, values, signal, options) => this.#run(route, statement, values, signal, options) };
  }

  /** Await a write, then take the primary's WAL position as the client's write token. */
  async afterWrite<T>(written: Promise<T>): Promise<T> {
    const result = await written;
    await this.noteWrite();
    return result;
  }

  /**
   * Take the primary's WAL position now that a write committed. Not abortable: the write is done,
   * and its token must not be lost to a caller's signal.
   */
  async noteWrite(): Promise<void> {
    const rows = await this.#primary.run(sql.walInsertPosition, []);
    const text = String(rows[0]?.[0]);
    const position = lsnValue(text);
    if (this.#token === null || position > this.#token) {
      this.#token = position;
      this.#tokenText = text;
    }
  }

  /** The replicas' state and lag, and where reads went; replicas that are up are asked now. */
  stats(): Promise<ReplicaSetStats> {
    // Concurrent callers (a metrics scrape reads several gauges at once) share one round of queries.
    this.#stats ??= this.#collectStats().finally(() => {
      this.#stats = undefined;
    });
    return this.#stats;
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.close()));
  }

  #route(options: ReadRouteOptions | undefined): Route {
    const primary = primaryOption(options?.primary);
    const after = options?.after === undefined ? (this.#config.readYourWrites ? this.#token : null) : afterPosition(options.after);
    return { primary, after };
  }

  async #run<Row>(route: Route, statement: Statement, values: readonly unknown[], signal: AbortSignal | undefined, options?: RunOptions<Row>): Promise<Row[]> {
    if (route.primary) return this.#onPrimary('requested', statement, values, signal, options);
    const tried = new Set<Replica>();
    for (;;) {
      const replica = this.#pick(route.after, tried);
      if (!(replica instanceof Replica)) return this.#onPrimary(replica, statement, values, signal, options);
      tried.add(replica);
      try {
        if (route.after !== null && !(await this.#caughtUp(replica, route.after, signal))) {
          return this.#onPrimary('lagging', statement, values, signal, options);
        }
        const rows = await replica.runner.run(statement, values, signal, options);
        replica.reads++;
        this.#readsOnReplicas++;
        this.onRoute?.(replica.label, 'routed');
        return rows;
      } catch (error) {
        if (isAbortError(error) || signal?.aborted) throw error;
        if (isReplicaFault(error)) {
          replica.markDown();
          continue;
        }
        if (isRecoveryConflict(error)) return this.#onPrimary('conflict', statement, values, signal, options);
        throw error;
      }
    }
  }

  #onPrimary<Row>(
    reason: PrimaryReadReason,
    statement: Statement,
    values: readonly unknown[],
    signal: AbortSignal | undefined,
    options?: RunOptions<Row>,
  ): Promise<Row[]> {
    this.#readsOnPrimary[reason]++;
    this.onRoute?.('primary', reason);
    return this.#primary.run(statement, values, signal, options);
  }

  /**
   * The next replica in round-robin order that is up and not yet tried. With a token, one already
   * known to be past it comes first; a replica whose last wait timed out is left out. Without a
   * replica: why the primary must answer.
   */
  #pick(after: bigint | null, tried: ReadonlySet<Replica>): Replica | 'unavailable' | 'lagging' {
    const now = Date.now();
    const count = this.replicas.length;
    let waitable: Replica | undefined;
    let lagging = false;
    for (let step = 0; step < count; step++) {
      const index = (this.#next + step) % count;
      const replica = this.replicas[index] as Replica;
      if (tried.has(replica) || !replica.available(now)) continue;
      if (after === null || (replica.replayed !== null && replica.replayed >= after)) {
        this.#next = (index + 1) % count;
        return replica;
      }
      if (replica.lagging(now)) lagging = true;
      else waitable ??= replica;
    }
    if (waitable === undefined) return lagging ? 'lagging' : 'unavailable';
    this.#next = (this.replicas.indexOf(waitable) + 1) % count;
    return waitable;
  }

  /** Wait (bounded) until `replica` has replayed `after`; false when it did not in time. */
  async #caughtUp(replica: Replica, after: bigint, signal: AbortSignal | undefined): Promise<boolean> {
    if (replica.replayed !== null && replica.replayed >= after) return true;
    const started = performance.now();
    const deadline = started + this.#config.waitMs;
    this.#waits++;
    try {
      for (let attempt = 0; ; attempt++) {
        const { replayed } = await replica.refresh();
        if (replayed >= after) return true;
        const left = deadline - performance.now();
        if (left <= 0) {
          replica.markLagging();
          return false;
        }
        // Replay on a healthy replica is quick: poll soon, then back off to 32 ms.
        await sleep(Math.min(left, backoffDelay(attempt + 1, replayPolling, 'none')), signal);
      }
    } finally {
      this.onWait?.((performance.now() - started) / 1000);
    }
  }

  async #collectStats(): Promise<ReplicaSetStats> {
    // A down replica past its retry delay gets its background check now, as it would on a read.
    const now = Date.now();
    for (const replica of this.replicas) replica.available(now);
    const [primary, ...replicas] = await Promise.allSettled([
      this.#primary.run(sql.walFlushPosition, []).then((rows) => String(rows[0]?.[0])),
      ...this.replicas.map((replica) => (replica.state === 'up' ? replica.refresh() : Promise.reject(new Error('down')))),
    ]);
    const primaryPosition = primary?.status === 'fulfilled' ? primary.value : null;
    const primaryValue = primaryPosition === null ? null : lsnValue(primaryPosition);
    return {
      writeToken: this.#tokenText,
      primaryPosition,
      readsOnReplicas: this.#readsOnReplicas,
      readsOnPrimary: { ...this.#readsOnPrimary },
      waits: this.#waits,
      replicas: this.replicas.map((replica, index): ReplicaStats => {
        const fresh = replicas[index]?.status === 'fulfilled';
        const status = replica.status;
        const lagBytes =
          fresh && status !== undefined && primaryValue !== null ? Number(primaryValue > status.replayed ? primaryValue - status.replayed : 0n) : null;
        return {
          target: replica.target,
          name: replica.label,
          state: replica.state,
          replayPosition: status?.replayedToken ?? null,
          lagBytes,
          lagSeconds: lagBytes === null ? null : lagBytes === 0 ? 0 : (status?.replayAgeSeconds ?? null),
          reads: replica.reads,
          failures: replica.failures,
          pool: replica.poolStats(),
        };
      }),
    };
  }
}
