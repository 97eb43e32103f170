/**
 * The client's telemetry: metrics, spans and log lines around every write and read. Created only
 * when something is enabled, so a client without telemetry runs its calls unwrapped.
 */
import type { Tracer } from './tracing.js';
import { isMessageDbError } from '../vocabulary/errors.js';
import { log, type Logger } from './logger.js';
import { ClientMetrics, type MetricsRegistry, type Outcome } from './metrics.js';
import { ClientTracing, withTraceparent } from './tracing.js';

/** Telemetry options of a client. */
export interface TelemetryConfig {
  /** A prom-client Registry to register messagedb's metrics on, or `true` for a registry of the client's own (`client.metrics()`). */
  metrics?: MetricsRegistry | boolean;
  /** An OpenTelemetry Tracer, or `true` for the global tracer provider's `messagedb` tracer. */
  tracing?: Tracer | boolean;
  /** A logger with the pino interface; silent when omitted. */
  logger?: Logger;
}

/** What kind of read an operation is (the `kind` label). */
export type ReadKind = 'stream' | 'category' | 'last' | 'version' | 'head';

/** Map an error to the bounded `outcome` label. */
export function outcomeOf(error: unknown): Outcome {
  if (!isMessageDbError(error)) return 'error';
  switch (error.code) {
    case 'EXPECTED_VERSION':
      return 'expected_version';
    case 'DUPLICATE_MESSAGE_ID':
      return 'duplicate';
    case 'INVALID_ARGUMENT':
    case 'CONDITION_NOT_ENABLED':
      return 'invalid';
    case 'CONNECTION':
    case 'POOL_TIMEOUT':
      return 'connection';
    case 'STATEMENT_TIMEOUT':
      return 'timeout';
    default:
      return 'error';
  }
}

/** What telemetry sees of a write once it is checked: each message's metadata as JSON text, which tracing extends. */
export interface ObservedWrite {
  messages: Array<{ metadata: string | null }>;
}

/** Metrics, tracing and logging for one client and its transactions. */
export class Telemetry {
  readonly metrics: ClientMetrics | undefined;
  readonly tracing: ClientTracing | undefined;
  readonly logger: Logger | undefined;

  private constructor(config: TelemetryConfig) {
    this.metrics =
      config.metrics === undefined || config.metrics === false ? undefined : new ClientMetrics(config.metrics === true ? undefined : config.metrics);
    this.tracing =
      config.tracing === undefined || config.tracing === false ? undefined : new ClientTracing(config.tracing === true ? undefined : config.tracing);
    this.logger = config.logger;
  }

  /** A Telemetry when anything is enabled, else undefined (no wrapping at all). */
  static create(config: TelemetryConfig): Telemetry | undefined {
    if (!config.metrics && !config.tracing && config.logger === undefined) return undefined;
    return new Telemetry(config);
  }

  /**
   * Observe a write of `messages` (the caller's input, read only for span attributes): `prepare`
   * checks and serialises it inside the span, so a refused write is observed too; with tracing on,
   * each prepared message's metadata then gets the write span's `traceparent` in `properties`
   * (unless it has one) before `write` runs. Telemetry never reads or changes the caller's values.
   */
  async write<P extends ObservedWrite, T>(
    kind: 'single' | 'batch',
    messages: readonly unknown[],
    prepare: () => P,
    write: (prepared: P) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const run = async (traceparent: string | undefined): Promise<T> => {
      try {
        const prepared = prepare();
        if (traceparent !== undefined) for (const message of prepared.messages) message.metadata = withTraceparent(message.metadata, traceparent);
        const result = await write(prepared);
        this.#finishWrite(kind, 'ok', started, messages.length);
        return result;
      } catch (error) {
        this.#finishWrite(kind, outcomeOf(error), started, messages.length);
        throw error;
      }
    };
    if (this.tracing === undefined) return run(undefined);
    const tracing = this.tracing;
    const attributes: Record<string, string | number> = { 'db.operation.name': 'write_message', 'messagedb.message_count': messages.length };
    const first = messages[0] as { streamName?: unknown } | null | undefined;
    if (typeof first === 'object' && first !== null && typeof first.streamName === 'string') attributes['messagedb.stream_name'] = first.streamName;
    return tracing.span(kind === 'single' ? 'messagedb write' : 'messagedb write batch', attributes, (span) => run(tracing.traceparent(span)));
  }

  /** Observe a read; `count` tells how many messages the result holds. */
  async read<T>(kind: ReadKind, target: unknown, read: () => Promise<T>, count: (result: T) => number): Promise<T> {
    const started = performance.now();
    const run = async (): Promise<T> => {
      try {
        const result = await read();
        this.#finishRead(kind, 'ok', started, count(result));
        return result;
      } catch (error) {
        this.#finishRead(kind, outcomeOf(error), started, 0);
        throw error;
      }
    };
    if (this.tracing === undefined) return run();
    const attributes: Record<string, string> = { 'db.operation.name': readOperations[kind] };
    if (typeof target === 'string') attributes[kind === 'category' || kind === 'head' ? 'messagedb.category' : 'messagedb.stream_name'] = target;
    return this.tracing.span(`messagedb read ${kind}`, attributes, run);
  }

  /** A connection fault: counted, and logged with whether it will be retried. */
  connectionFault(attempt: number, retrying: boolean, error: unknown): void {
    this.metrics?.connectionErrors.inc();
    if (retrying) this.metrics?.retries.inc();
    log(this.logger, retrying ? 'warn' : 'error', () => [
      { event: 'connection_fault', attempt, retrying, code: (error as { code?: unknown })?.code },
      retrying ? 'database connection lost; retrying' : 'database connection lost; giving up',
    ]);
  }

  #finishWrite(kind: 'single' | 'batch', outcome: Outcome, started: number, count: number): void {
    const seconds = (performance.now() - started) / 1000;
    if (this.metrics !== undefined) {
      this.metrics.writes.inc({ kind, outcome });
      this.metrics.writeDuration.observe({ kind, outcome }, seconds);
      if (outcome === 'ok') this.metrics.messagesWritten.inc(undefined, count);
      if (outcome === 'expected_version') this.metrics.expectedVersionErrors.inc();
    }
    log(this.logger, outcome === 'ok' ? 'debug' : 'warn', () => [{ op: 'write', kind, outcome, count, durationMs: seconds * 1000 }, `write ${outcome}`]);
  }

  #finishRead(kind: ReadKind, outcome: Outcome, started: number, count: number): void {
    const seconds = (performance.now() - started) / 1000;
    if (this.metrics !== undefined) {
      this.metrics.reads.inc({ kind, outcome });
      this.metrics.readDuration.observe({ kind }, seconds);
      if (count > 0) this.metrics.messagesRead.inc({ kind }, count);
    }
    log(this.logger, outcome === 'ok' ? 'debug' : 'warn', () => [{ op: 'read', kind, outcome, count, durationMs: seconds * 1000 }, `read ${outcome}`]);
  }
}

const readOperations: Record<ReadKind, string> = {
  stream: 'get_stream_messages',
  category: 'get_category_messages',
  last: 'get_last_stream_message',
  version: 'stream_version',
  head: 'category_head',
};
