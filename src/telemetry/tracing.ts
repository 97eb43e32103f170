/**
 * OpenTelemetry traces through @opentelemetry/api (an optional peer dependency, loaded only when
 * tracing is asked for). Trace context travels with messages as a W3C `traceparent` in
 * `metadata.properties`, which Eventide's `follow` copies to the messages that follow.
 */
import { loadOtel } from './optional-peer.js';

// The OpenTelemetry types below are messagedb's own, shaped after @opentelemetry/api's and filled by
// its objects: the published declarations name them, and must compile for a TypeScript user who
// has not installed that optional peer (strict, without skipLibCheck).

/** OpenTelemetry's `Tracer`, as messagedb starts spans with it; a Tracer from @opentelemetry/api is one. */
export interface Tracer {
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, context: Context, fn: F): ReturnType<F>;
}

/** The options messagedb starts a span with: its kind (`SpanKind.CLIENT`) and attributes. */
export interface SpanOptions {
  kind?: number;
  attributes?: Record<string, string | number | boolean>;
}

/** OpenTelemetry's `Span`, as messagedb ends it and reads its context. */
export interface Span {
  spanContext(): { traceId: string; spanId: string; traceFlags: number };
  recordException(exception: Error | string): void;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** OpenTelemetry's `Context` (immutable values keyed by symbols): the parent of a consumer's handler span. */
export interface Context {
  getValue(key: symbol): unknown;
  setValue(key: symbol, value: unknown): Context;
  deleteValue(key: symbol): Context;
}

/** The metadata property that carries trace context. */
export const TRACEPARENT = 'traceparent';

const traceparentText = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Metadata's JSON text (already checked) with `traceparent` added to its `properties`, unless one is
 * there. Metadata whose `properties` is not a plain object is kept as it is: the trace context does
 * not travel with it rather than the caller's value change shape.
 */
export function withTraceparent(metadata: string | null, traceparent: string): string {
  // A traceparent is lowercase hex and dashes: its JSON text is itself in quotes.
  const properties = `{"${TRACEPARENT}":"${traceparent}"}`;
  if (metadata === null) return `{"properties":${properties}}`;
  // Without this text the metadata has no top-level `properties` key: append one, as a parse and
  // JSON.stringify would, without paying for them.
  if (!metadata.includes('"properties":')) return `${metadata.slice(0, -1)}${metadata === '{}' ? '' : ','}"properties":${properties}}`;
  // The text came from JSON.stringify, so parsing and writing it again gives the same text back.
  const value = JSON.parse(metadata) as Record<string, unknown>;
  const existing = value.properties;
  if (existing === undefined) {
    value.properties = JSON.parse(properties);
  } else if (typeof existing === 'object' && existing !== null && !Array.isArray(existing) && !Object.hasOwn(existing, TRACEPARENT)) {
    (existing as Record<string, unknown>)[TRACEPARENT] = traceparent;
  } else {
    return metadata;
  }
  return JSON.stringify(value);
}

/** Spans for one client. */
export class ClientTracing {
  readonly #api: ReturnType<typeof loadOtel>;
  readonly #tracer: Tracer;

  constructor(tracer: Tracer | undefined) {
    this.#api = loadOtel();
    this.#tracer = tracer ?? this.#api.trace.getTracer('messagedb');
  }

  /**
   * Run `fn` in an active span; errors set the span's status and are recorded. `attributes` become
   * the span's, with the attributes every messagedb span has (OpenTelemetry database semantic
   * conventions) added to them: pass an object of the call's own.
   */
  async span<T>(name: string, attributes: Record<string, string | number | boolean>, fn: (span: Span) => Promise<T>, parent?: Context): Promise<T> {
    const api = this.#api;
    const run = (span: Span): Promise<T> =>
      fn(span).then(
        (result) => {
          span.end();
          return result;
        },
        (error: unknown) => {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
          span.end();
          throw error;
        },
      );
    attributes['db.system'] = 'postgresql';
    attributes['db.system.name'] = 'postgresql';
    const options = { kind: api.SpanKind.CLIENT, attributes };
    return parent === undefined ? this.#tracer.startActiveSpan(name, options, run) : this.#tracer.startActiveSpan(name, options, parent, run);
  }

  /** The W3C traceparent of a span, or undefined when it carries no valid context. */
  traceparent(span: Span): string | undefined {
    const context = span.spanContext();
    if (!this.#api.isSpanContextValid(context)) return undefined;
    return `00-${context.traceId}-${context.spanId}-${context.traceFlags.toString(16).padStart(2, '0')}`;
  }

  /** A context whose remote parent is the traceparent's span (for a consumer handling a message). */
  contextFrom(traceparent: unknown): Context | undefined {
    if (typeof traceparent !== 'string') return undefined;
    const parts = traceparentText.exec(traceparent);
    if (parts === null) return undefined;
    const spanContext = { traceId: parts[1] as string, spanId: parts[2] as string, traceFlags: parseInt(parts[3] as string, 16), isRemote: true };
    if (!this.#api.isSpanContextValid(spanContext)) return undefined;
    return this.#api.trace.setSpanContext(this.#api.ROOT_CONTEXT, spanContext);
  }
}
