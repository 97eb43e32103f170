/**
 * Prometheus metrics through prom-client (an optional peer dependency, loaded only when metrics are
 * asked for). Labels are bounded: operation kinds and outcomes, and for consumers their configured
 * category and identifier; never a stream name.
 */
import { loadPromClient } from './optional-peer.js';
import type { PoolStats } from '../engine/engine.js';
import type { ReplicaSetStats } from '../replica/replica-stats.js';

/** The structural part of a prom-client Registry that messagedb uses. */
export interface MetricsRegistry {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: unknown): void;
  metrics(): Promise<string>;
  contentType: string;
}

interface WatchedPool {
  stats(): PoolStats;
  max: number;
}

/** Pools reported by each registry's gauges: shared by every client that uses the registry. */
const poolsByRegistry = new WeakMap<object, Set<WatchedPool>>();

/** A client's read replicas, as the replica metrics see them (its read router). */
interface WatchedReplicas {
  stats(): Promise<ReplicaSetStats>;
  onRoute: ((target: string, reason: string) => void) | undefined;
  onWait: ((seconds: number) => void) | undefined;
}

/** Replica sets reported by each registry's replica gauges. */
const replicasByRegistry = new WeakMap<object, Set<WatchedReplicas>>();

type Labels = Record<string, string>;
type Counter = import('prom-client').Counter;
type Histogram = import('prom-client').Histogram;

/** A counter as messagedb updates it. */
export interface CounterUpdates {
  inc(labels?: Labels, value?: number): void;
}

/** A histogram as messagedb updates it. */
export interface HistogramUpdates {
  observe(labels: Labels, value: number): void;
}

const noLabels: Labels = Object.freeze({}) as Labels;

/** The most updates that wait for a scrape; more are applied at once, so nothing grows unscraped. */
const pendingLimit = 512;

/**
 * Counter and histogram updates of one registry, waiting to be applied. prom-client hashes and
 * validates the labels on every `inc` and `observe`, which costs far more on a path that runs once
 * per database round trip, between its I/O, than in a loop (docs/observability.md has the figures).
 * Queued here as plain values, they are applied in one loop when the registry is scraped (each
 * metric created here flushes the queue from its `collect`, which prom-client runs before it
 * reads any value), or once `pendingLimit` are waiting. A scrape sees every update made before it.
 */
class PendingUpdates {
  #counters: Array<Counter | undefined> = [];
  #histograms: Array<Histogram | undefined> = [];
  #labels: Labels[] = [];
  #values: number[] = [];

  inc(counter: Counter, labels: Labels, value: number): void {
    this.#add(counter, undefined, labels, value);
  }

  observe(histogram: Histogram, labels: Labels, value: number): void {
    this.#add(undefined, histogram, labels, value);
  }

  #add(counter: Counter | undefined, histogram: Histogram | undefined, labels: Labels, value: number): void {
    this.#counters.push(counter);
    this.#histograms.push(histogram);
    this.#labels.push(labels);
    this.#values.push(value);
    if (this.#values.length >= pendingLimit) this.flush();
  }

  flush(): void {
    const values = this.#values;
    if (values.length === 0) return;
    const counters = this.#counters;
    const histograms = this.#histograms;
    const labels = this.#labels;
    this.#counters = [];
    this.#histograms = [];
    this.#labels = [];
    this.#values = [];
    for (let index = 0; index < values.length; index++) {
      const value = values[index] as number;
      const label = labels[index] as Labels;
      const counter = counters[index];
      if (counter !== undefined) counter.inc(label, value);
      else histograms[index]?.observe(label, value);
    }
  }
}

const pendingByRegistry = new WeakMap<object, PendingUpdates>();
/** The metrics created here: their updates are queued. One of the same name registered by anyone else is updated at once. */
const queuedMetrics = new WeakSet<object>();

/** Counters and histograms on `registry`: the registered one when the name is taken, else a new one. */
export function queuedMetricMaker(registry: MetricsRegistry) {
  const prom = loadPromClient();
  const registers = [registry as never];
  let pending = pendingByRegistry.get(registry);
  if (pending === undefined) {
    pending = new PendingUpdates();
    pendingByRegistry.set(registry, pending);
  }
  const queue = pending;
  const collect = (): void => queue.flush();
  const find = (name: string): Counter | Histogram | undefined => registry.getSingleMetric(name) as Counter | Histogram | undefined;
  const made = <M extends Counter | Histogram>(metric: M): M => {
    queuedMetrics.add(metric);
    return metric;
  };
  return {
    counter(name: string, help: string, labelNames: string[] = []): CounterUpdates {
      const metric = (find(name) as Counter | undefined) ?? made(new prom.Counter({ name, help, labelNames, registers, collect }));
      if (!queuedMetrics.has(metric)) return { inc: (labels = noLabels, value = 1) => metric.inc(labels, value) };
      return { inc: (labels = noLabels, value = 1) => queue.inc(metric, labels, value) };
    },
    histogram(name: string, help: string, labelNames: string[] = [], buckets: number[] = durationBuckets): HistogramUpdates {
      const metric = (find(name) as Histogram | undefined) ?? made(new prom.Histogram({ name, help, labelNames, buckets, registers, collect }));
      if (!queuedMetrics.has(metric)) return { observe: (labels, value) => metric.observe(labels, value) };
      return { observe: (labels, value) => queue.observe(metric, labels, value) };
    },
  };
}

/** Latency buckets in seconds, from 100 µs (a local write) to 10 s. */
const durationBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Outcome label of a finished operation. */
export type Outcome = 'ok' | 'expected_version' | 'duplicate' | 'invalid' | 'connection' | 'timeout' | 'error';

/** The client's metrics on one registry (shared when several clients use the same registry). */
export class ClientMetrics {
  readonly registry: MetricsRegistry;
  readonly writes: CounterUpdates;
  readonly writeDuration: HistogramUpdates;
  readonly messagesWritten: CounterUpdates;
  readonly reads: CounterUpdates;
  readonly readDuration: HistogramUpdates;
  readonly messagesRead: CounterUpdates;
  readonly expectedVersionErrors: CounterUpdates;
  readonly connectionErrors: CounterUpdates;
  readonly retries: CounterUpdates;
  readonly acquireWait: HistogramUpdates;
  readonly routedReads: CounterUpdates;
  readonly replicaWait: HistogramUpdates;
  readonly #pools: Set<WatchedPool>;
  readonly #replicaSets: Set<WatchedReplicas>;

  constructor(registry: MetricsRegistry | undefined) {
    const prom = loadPromClient();
    this.registry = registry ?? (new prom.Registry() as unknown as MetricsRegistry);
    const registers = [this.registry as never];
    let pools = poolsByRegistry.get(this.registry);
    if (pools === undefined) {
      pools = new Set();
      poolsByRegistry.set(this.registry, pools);
    }
    this.#pools = pools;
    let replicaSets = replicasByRegistry.get(this.registry);
    if (replicaSets === undefined) {
      replicaSets = new Set();
      replicasByRegistry.set(this.registry, replicaSets);
    }
    this.#replicaSets = replicaSets;
    const once = <T>(name: string, make: () => T): T => (this.registry.getSingleMetric(name) as T | undefined) ?? make();
    const { counter, histogram } = queuedMetricMaker(this.registry);

    this.writes = counter('messagedb_writes_total', 'Write calls (writeMessage, writeMessages) by kind and outcome', ['kind', 'outcome']);
    this.writeDuration = histogram('messagedb_write_duration_seconds', 'Write call duration by kind and outcome', ['kind', 'outcome']);
    this.messagesWritten = counter('messagedb_messages_written_total', 'Messages written successfully');
    this.reads = counter('messagedb_reads_total', 'Read calls by kind (stream, category, last, version, head) and outcome', ['kind', 'outcome']);
    this.readDuration = histogram('messagedb_read_duration_seconds', 'Read call duration by kind', ['kind']);
    this.messagesRead = counter('messagedb_messages_read_total', 'Messages (rows) read, by kind', ['kind']);
    this.expectedVersionErrors = counter('messagedb_expected_version_errors_total', 'Writes refused for a wrong expected version');
    this.connectionErrors = counter('messagedb_connection_errors_total', 'Connection faults seen (each retried or final)');
    this.retries = counter('messagedb_retries_total', 'Statements retried after a connection fault');
    this.acquireWait = histogram('messagedb_pool_acquire_wait_seconds', 'Time spent waiting for a pooled connection');

    const sum = (pick: (stats: PoolStats, max: number) => number): number => {
      let total = 0;
      for (const pool of pools ?? []) total += pick(pool.stats(), pool.max);
      return total;
    };
    const gauge = (name: string, help: string, read: () => number) =>
      once(
        name,
        () =>
          new prom.Gauge({
            name,
            help,
            registers,
            collect() {
              this.set(read());
            },
          }),
      );
    gauge('messagedb_pool_connections', 'Open pooled connections', () => sum((s) => s.total));
    gauge('messagedb_pool_idle', 'Idle pooled connections', () => sum((s) => s.idle));
    gauge('messagedb_pool_waiting', 'Callers waiting for a pooled connection', () => sum((s) => s.waiting));
    gauge('messagedb_pool_saturation', 'Busy connections over the pool maximum (0..1)', () => {
      const max = sum((_, m) => m);
      return max === 0 ? 0 : sum((s) => s.total - s.idle) / max;
    });

    // Read replicas: where reads went, read-your-writes waits, and each replica's state and lag.
    this.routedReads = counter(
      'messagedb_replica_routed_reads_total',
      'Reads of clients with read replicas by server (a replica, or primary) and reason (routed, requested, unavailable, lagging, conflict)',
      ['target', 'reason'],
    );
    this.replicaWait = histogram('messagedb_replica_wait_seconds', 'Time reads waited for a replica to replay their write token');
    const sets = replicaSets;
    const replicaGauge = (name: string, help: string, read: (replica: ReplicaSetStats['replicas'][number]) => number | null) =>
      once(
        name,
        () =>
          new prom.Gauge({
            name,
            help,
            labelNames: ['replica'],
            registers,
            async collect() {
              this.reset();
              for (const set of sets) {
                const stats = await set.stats().catch(() => undefined);
                for (const replica of stats?.replicas ?? []) {
                  const value = read(replica);
                  if (value !== null) this.set({ replica: replica.name }, value);
                }
              }
            },
          }),
      );
    replicaGauge('messagedb_replica_up', 'Whether a read replica serves reads (1) or is skipped after a failure (0)', (r) => (r.state === 'up' ? 1 : 0));
    replicaGauge('messagedb_replica_lag_bytes', 'WAL bytes the primary has written that the replica has not replayed yet', (r) => r.lagBytes);
    replicaGauge(
      'messagedb_replica_lag_seconds',
      'Age of the newest transaction the replica replayed (0 when it has replayed everything)',
      (r) => r.lagSeconds,
    );
  }

  /** Report a client's read replicas in the replica metrics; returns the function that stops it. */
  watchReplicas(replicas: WatchedReplicas): () => void {
    replicas.onRoute = (target, reason) => this.routedReads.inc({ target, reason });
    replicas.onWait = (seconds) => this.replicaWait.observe(noLabels, seconds);
    this.#replicaSets.add(replicas);
    return () => {
      this.#replicaSets.delete(replicas);
      replicas.onRoute = undefined;
      replicas.onWait = undefined;
    };
  }

  /** Report this pool in the pool gauges. */
  watchPool(pool: WatchedPool): () => void {
    this.#pools.add(pool);
    return () => this.#pools.delete(pool);
  }
}
