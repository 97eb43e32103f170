/**
 * Consumer telemetry: per-consumer metrics (labelled by the configured category and identifier,
 * never by stream), a span per handled message that continues the trace of the write that produced
 * it (the `traceparent` in `metadata.properties`), and log lines for lifecycle events.
 */
import type { Message } from '../vocabulary/message.js';
import { log } from './logger.js';
import { queuedMetricMaker, type MetricsRegistry } from './metrics.js';
import { loadPromClient } from './optional-peer.js';
import type { Telemetry } from './telemetry.js';
import { TRACEPARENT } from './tracing.js';

/** What the lag and position gauges read from a live consumer at scrape time. */
export interface ConsumerFigures {
  position: number | null;
  lag: number | null;
  /** Parked messages not yet replayed or discarded; null for a consumer that cannot park. */
  deadLettersWaiting?: number | null;
}

interface LiveConsumer {
  labels: { category: string; identifier: string };
  figures(): Promise<ConsumerFigures>;
}

const liveByRegistry = new WeakMap<object, Set<LiveConsumer>>();

function consumerMetrics(registry: MetricsRegistry) {
  const prom = loadPromClient();
  const registers = [registry as never];
  const labelNames = ['category', 'identifier'];
  const once = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const { counter, histogram } = queuedMetricMaker(registry);
  let live = liveByRegistry.get(registry);
  if (live === undefined) {
    live = new Set();
    liveByRegistry.set(registry, live);
  }
  const consumers = live;
  const figureGauge = (name: string, help: string, pick: (figures: ConsumerFigures) => number | null) =>
    once(
      name,
      () =>
        new prom.Gauge({
          name,
          help,
          labelNames,
          registers,
          async collect() {
            this.reset();
            for (const consumer of consumers) {
              const value = pick(await consumer.figures());
              if (value !== null) this.set(consumer.labels, value);
            }
          },
        }),
    );
  return {
    live: consumers,
    handled: counter('messagedb_consumer_handled_total', 'Messages handled by a consumer', labelNames),
    handlerDuration: histogram(
      'messagedb_consumer_handler_duration_seconds',
      'Handler duration per message',
      labelNames,
      [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
    positionWrites: counter('messagedb_consumer_position_writes_total', 'Position records written', labelNames),
    errors: counter('messagedb_consumer_errors_total', 'Consumer errors by kind (handler, connection)', [...labelNames, 'kind']),
    position: figureGauge('messagedb_consumer_position', 'Global position of the last handled message', (f) => f.position),
    lag: figureGauge('messagedb_consumer_lag', 'Category head minus the consumer position', (f) => f.lag),
    deadLetters: counter('messagedb_consumer_dead_letters_total', 'Dead letters by what happened to them (parked, replayed, discarded)', [
      ...labelNames,
      'outcome',
    ]),
    deadLettersWaiting: figureGauge(
      'messagedb_consumer_dead_letters_waiting',
      'Parked messages not yet replayed or discarded',
      (f) => f.deadLettersWaiting ?? null,
    ),
  };
}

/** The telemetry of one consumer; every method is a no-op for what is not enabled. */
export class ConsumerTelemetry {
  readonly #telemetry: Telemetry;
  readonly #labels: { category: string; identifier: string };
  readonly #metrics: ReturnType<typeof consumerMetrics> | undefined;
  readonly #live: LiveConsumer;

  constructor(telemetry: Telemetry, category: string, identifier: string | undefined, figures: () => Promise<ConsumerFigures>) {
    this.#telemetry = telemetry;
    this.#labels = { category, identifier: identifier ?? '' };
    this.#metrics = telemetry.metrics === undefined ? undefined : consumerMetrics(telemetry.metrics.registry);
    this.#live = { labels: this.#labels, figures };
  }

  /** Run one handler call: timed, counted, and in a span whose parent is the message's write span. */
  async handle(message: Message, handler: () => Promise<void>): Promise<void> {
    const started = performance.now();
    const tracing = this.#telemetry.tracing;
    const run = async (): Promise<void> => {
      await handler();
      this.#metrics?.handlerDuration.observe(this.#labels, (performance.now() - started) / 1000);
    };
    if (tracing === undefined) return run();
    const parent = tracing.contextFrom(message.metadata?.properties?.[TRACEPARENT]);
    return tracing.span(
      `messagedb handle ${message.type}`,
      {
        'db.operation.name': 'handle',
        'messagedb.category': this.#labels.category,
        'messagedb.stream_name': message.streamName,
        'messagedb.message_type': message.type,
        'messagedb.global_position': message.globalPosition,
      },
      run,
      parent,
    );
  }

  handled(): void {
    this.#metrics?.handled.inc(this.#labels);
  }

  positionWritten(position: number): void {
    this.#metrics?.positionWrites.inc(this.#labels);
    log(this.#telemetry.logger, 'debug', () => [{ event: 'position_recorded', ...this.#labels, position }, 'consumer position recorded']);
  }

  /** A message was parked or replayed by this consumer, or it saw a discard recorded. */
  deadLetter(outcome: 'parked' | 'replayed' | 'discarded'): void {
    this.#metrics?.deadLetters.inc({ ...this.#labels, outcome });
    log(this.#telemetry.logger, outcome === 'parked' ? 'warn' : 'info', () => [
      { event: `dead_letter_${outcome}`, ...this.#labels },
      `consumer dead letter ${outcome}`,
    ]);
  }

  error(kind: 'handler' | 'connection', error: unknown): void {
    this.#metrics?.errors.inc({ ...this.#labels, kind });
    log(this.#telemetry.logger, kind === 'handler' ? 'error' : 'warn', () => [
      { event: 'consumer_error', ...this.#labels, kind, error: error instanceof Error ? error.name : typeof error, code: (error as { code?: unknown })?.code },
      kind === 'handler' ? 'consumer handler failed' : 'consumer lost its connection; retrying',
    ]);
  }

  started(): void {
    this.#metrics?.live.add(this.#live);
    log(this.#telemetry.logger, 'info', () => [{ event: 'consumer_started', ...this.#labels }, 'consumer started']);
  }

  stopped(): void {
    this.#metrics?.live.delete(this.#live);
    log(this.#telemetry.logger, 'info', () => [{ event: 'consumer_stopped', ...this.#labels }, 'consumer stopped']);
  }
}
