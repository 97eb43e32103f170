/**
 * Elastic group telemetry: partitions held (a gauge read at scrape time), rebalances and how long
 * they took, members ended for silence, and log lines when a member joins and leaves its group.
 * Labelled by the group's category and identifier, like the consumer metrics.
 */
import { log } from './logger.js';
import { queuedMetricMaker, type MetricsRegistry } from './metrics.js';
import { loadPromClient } from './optional-peer.js';
import type { Telemetry } from './telemetry.js';

interface LiveMember {
  labels: { category: string; identifier: string };
  partitions(): number;
}

const liveByRegistry = new WeakMap<object, Set<LiveMember>>();

function elasticMetrics(registry: MetricsRegistry) {
  const prom = loadPromClient();
  const labelNames = ['category', 'identifier'];
  let live = liveByRegistry.get(registry);
  if (live === undefined) {
    live = new Set();
    liveByRegistry.set(registry, live);
  }
  const members = live;
  const name = 'messagedb_elastic_partitions_owned';
  if (registry.getSingleMetric(name) === undefined) {
    new prom.Gauge({
      name,
      help: 'Partitions of an elastic consumer group held by this process',
      labelNames,
      registers: [registry as never],
      collect() {
        this.reset();
        const totals = new Map<string, { labels: LiveMember['labels']; count: number }>();
        for (const member of members) {
          const key = `${member.labels.category}\u0000${member.labels.identifier}`;
          const total = totals.get(key) ?? { labels: member.labels, count: 0 };
          total.count += member.partitions();
          totals.set(key, total);
        }
        for (const { labels, count } of totals.values()) this.set(labels, count);
      },
    });
  }
  const { counter, histogram } = queuedMetricMaker(registry);
  return {
    live: members,
    rebalances: counter('messagedb_elastic_rebalances_total', 'Rebalances an elastic group member completed', labelNames),
    rebalanceDuration: histogram(
      'messagedb_elastic_rebalance_seconds',
      'Time from a member finding itself off its fair share of partitions to holding it again',
      labelNames,
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    ),
    membersEnded: counter('messagedb_elastic_members_ended_total', 'Silent members whose lease sessions this process ended', labelNames),
  };
}

/** The telemetry of one elastic group member; every method is a no-op for what is not enabled. */
export class ElasticTelemetry {
  readonly #telemetry: Telemetry;
  readonly #labels: { category: string; identifier: string };
  readonly #metrics: ReturnType<typeof elasticMetrics> | undefined;
  readonly #live: LiveMember;

  constructor(telemetry: Telemetry, category: string, identifier: string, partitions: () => number) {
    this.#telemetry = telemetry;
    this.#labels = { category, identifier };
    this.#metrics = telemetry.metrics === undefined ? undefined : elasticMetrics(telemetry.metrics.registry);
    this.#live = { labels: this.#labels, partitions };
  }

  started(): void {
    this.#metrics?.live.add(this.#live);
    log(this.#telemetry.logger, 'info', () => [{ event: 'elastic_member_started', ...this.#labels }, 'elastic group member started']);
  }

  stopped(): void {
    this.#metrics?.live.delete(this.#live);
    log(this.#telemetry.logger, 'info', () => [{ event: 'elastic_member_stopped', ...this.#labels }, 'elastic group member stopped']);
  }

  rebalanced(durationMs: number): void {
    this.#metrics?.rebalances.inc(this.#labels);
    this.#metrics?.rebalanceDuration.observe(this.#labels, durationMs / 1000);
    log(this.#telemetry.logger, 'info', () => [{ event: 'elastic_rebalanced', ...this.#labels, durationMs }, 'elastic group member holds its share']);
  }

  membersEnded(count: number): void {
    this.#metrics?.membersEnded.inc(this.#labels, count);
    log(this.#telemetry.logger, 'warn', () => [{ event: 'elastic_members_ended', ...this.#labels, count }, 'ended the lease sessions of silent members']);
  }
}
