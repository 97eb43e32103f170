/**
 * Entity store telemetry: metrics labelled by the store's category (bounded: one per store, never
 * an id), spans around fetch, handle and snapshot writes, and log lines for what goes wrong without
 * failing the call (a snapshot that cannot be written or used).
 */
import { log } from '../telemetry/logger.js';
import { queuedMetricMaker, type MetricsRegistry } from '../telemetry/metrics.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { Span } from '../telemetry/tracing.js';

/** Where a fetch started from: the cache, a snapshot, or the start of the stream. */
export type FetchSource = 'cache' | 'snapshot' | 'stream';

/** How a `handle` call ended. */
export type HandleOutcome = 'written' | 'nothing' | 'conflict' | 'error';

/** What a fetch did, for its metrics and span. */
export interface FetchFacts {
  source: FetchSource;
  projected: number;
  version: number;
}

const metricsByRegistry = new WeakMap<object, ReturnType<typeof makeMetrics>>();

function makeMetrics(registry: MetricsRegistry) {
  const { counter, histogram } = queuedMetricMaker(registry);
  return {
    fetches: counter('messagedb_entity_fetches_total', 'Entity fetches by category and where they started (cache, snapshot, stream)', ['category', 'source']),
    fetchDuration: histogram('messagedb_entity_fetch_duration_seconds', 'Entity fetch duration by category', ['category']),
    projected: counter('messagedb_entity_messages_projected_total', 'Messages projected into entities, by category', ['category']),
    snapshotWrites: counter('messagedb_entity_snapshot_writes_total', 'Snapshots written, by category and outcome (ok, error)', ['category', 'outcome']),
    snapshotsIgnored: counter('messagedb_entity_snapshots_ignored_total', 'Snapshots read but not usable (projected from the stream instead), by category', [
      'category',
    ]),
    handles: counter('messagedb_entity_handles_total', 'handle calls by category and outcome (written, nothing, conflict, error)', ['category', 'outcome']),
    conflicts: counter('messagedb_entity_handle_conflicts_total', 'handle attempts refused for a wrong expected version, by category', ['category']),
    handleDuration: histogram('messagedb_entity_handle_duration_seconds', 'handle duration by category, retries included', ['category']),
  };
}

/** The telemetry of one entity store; every method is a no-op for what is not enabled. */
export class EntityTelemetry {
  readonly #telemetry: Telemetry | undefined;
  readonly #labels: { category: string };
  readonly #metrics: ReturnType<typeof makeMetrics> | undefined;

  constructor(telemetry: Telemetry | undefined, category: string) {
    this.#telemetry = telemetry;
    this.#labels = { category };
    const registry = telemetry?.metrics?.registry;
    if (registry !== undefined) {
      let metrics = metricsByRegistry.get(registry);
      if (metrics === undefined) {
        metrics = makeMetrics(registry);
        metricsByRegistry.set(registry, metrics);
      }
      this.#metrics = metrics;
    }
  }

  /** Run a fetch in a span; `run` reports what it did through `facts`. */
  fetch<T>(streamName: string, run: (facts: FetchFacts) => Promise<T>): Promise<T> {
    // Not async: without telemetry a cached fetch costs no extra promise.
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return run({ source: 'stream', projected: 0, version: -1 });
    return this.#observedFetch(telemetry, streamName, run);
  }

  async #observedFetch<T>(telemetry: Telemetry, streamName: string, run: (facts: FetchFacts) => Promise<T>): Promise<T> {
    const facts: FetchFacts = { source: 'stream', projected: 0, version: -1 };
    const started = performance.now();
    const finish = (span: Span | undefined): void => {
      const metrics = this.#metrics;
      if (metrics !== undefined) {
        metrics.fetches.inc({ category: this.#labels.category, source: facts.source });
        metrics.fetchDuration.observe(this.#labels, (performance.now() - started) / 1000);
        if (facts.projected > 0) metrics.projected.inc(this.#labels, facts.projected);
      }
      setAttributes(span, {
        'messagedb.entity.source': facts.source,
        'messagedb.entity.projected': facts.projected,
        'messagedb.entity.version': facts.version,
      });
    };
    const tracing = telemetry.tracing;
    if (tracing === undefined) {
      const result = await run(facts);
      finish(undefined);
      return result;
    }
    return tracing.span(
      'messagedb entity fetch',
      { 'db.operation.name': 'entity_fetch', 'messagedb.category': this.#labels.category, 'messagedb.stream_name': streamName },
      async (span) => {
        const result = await run(facts);
        finish(span);
        return result;
      },
    );
  }

  /** Run a `handle` call in a span; `run` reports its attempts and conflicts. */
  async handle<T>(streamName: string, run: (attempt: { count: number; conflicts: number }) => Promise<{ result: T; outcome: HandleOutcome }>): Promise<T> {
    const telemetry = this.#telemetry;
    const attempt = { count: 0, conflicts: 0 };
    if (telemetry === undefined) return (await run(attempt)).result;
    const started = performance.now();
    const finish = (outcome: HandleOutcome, span: Span | undefined): void => {
      const metrics = this.#metrics;
      if (metrics !== undefined) {
        metrics.handles.inc({ category: this.#labels.category, outcome });
        metrics.handleDuration.observe(this.#labels, (performance.now() - started) / 1000);
        if (attempt.conflicts > 0) metrics.conflicts.inc(this.#labels, attempt.conflicts);
      }
      setAttributes(span, { 'messagedb.entity.attempts': attempt.count, 'messagedb.entity.conflicts': attempt.conflicts, 'messagedb.entity.outcome': outcome });
      log(telemetry.logger, outcome === 'written' || outcome === 'nothing' ? 'debug' : 'warn', () => [
        {
          op: 'entity_handle',
          category: this.#labels.category,
          outcome,
          attempts: attempt.count,
          conflicts: attempt.conflicts,
          durationMs: performance.now() - started,
        },
        `entity handle ${outcome}`,
      ]);
    };
    const observed = async (span: Span | undefined): Promise<T> => {
      try {
        const { result, outcome } = await run(attempt);
        finish(outcome, span);
        return result;
      } catch (error) {
        finish(attempt.conflicts >= attempt.count && attempt.count > 0 ? 'conflict' : 'error', span);
        throw error;
      }
    };
    const tracing = telemetry.tracing;
    if (tracing === undefined) return observed(undefined);
    return tracing.span(
      'messagedb entity handle',
      { 'db.operation.name': 'entity_handle', 'messagedb.category': this.#labels.category, 'messagedb.stream_name': streamName },
      observed,
    );
  }

  /** Run a snapshot write in a span, counted by outcome. */
  async snapshotWrite<T>(snapshotStream: string, version: number, write: () => Promise<T>): Promise<T> {
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return write();
    const observed = async (): Promise<T> => {
      try {
        const result = await write();
        this.#metrics?.snapshotWrites.inc({ category: this.#labels.category, outcome: 'ok' });
        return result;
      } catch (error) {
        this.#metrics?.snapshotWrites.inc({ category: this.#labels.category, outcome: 'error' });
        throw error;
      }
    };
    if (telemetry.tracing === undefined) return observed();
    return telemetry.tracing.span(
      'messagedb entity snapshot',
      { 'db.operation.name': 'entity_snapshot', 'messagedb.stream_name': snapshotStream, 'messagedb.entity.version': version },
      observed,
    );
  }

  /** A snapshot write failed; the fetch that made it still succeeds. */
  snapshotWriteFailed(snapshotStream: string, version: number, error: unknown): void {
    log(this.#telemetry?.logger, 'warn', () => [
      {
        event: 'entity_snapshot_failed',
        category: this.#labels.category,
        streamName: snapshotStream,
        version,
        error: errorName(error),
        code: (error as { code?: unknown } | null)?.code,
      },
      'entity snapshot not written; the fetch is not affected',
    ]);
  }

  /** A snapshot was read but could not be used; the entity is projected from its stream instead. */
  snapshotIgnored(snapshotStream: string, reason: string): void {
    this.#metrics?.snapshotsIgnored.inc(this.#labels);
    log(this.#telemetry?.logger, 'warn', () => [
      { event: 'entity_snapshot_ignored', category: this.#labels.category, streamName: snapshotStream, reason },
      'entity snapshot not usable; projecting from the stream',
    ]);
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** Span attributes set after the work, when the span has that method (OpenTelemetry's does). */
function setAttributes(span: Span | undefined, attributes: Record<string, string | number>): void {
  const target = span as { setAttributes?: (attributes: Record<string, string | number>) => unknown } | undefined;
  target?.setAttributes?.(attributes);
}
