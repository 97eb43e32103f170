/**
 * The console's JSON API: one handler per view, each answering from the console reader. Path
 * segments are percent-decoded stream and category names; bad query values get a 400 naming them.
 */
import type { IncomingMessage } from 'node:http';
import type { MessageDbClient } from '../store/client.js';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import { diagnose } from '../doctor/diagnose.js';
import { readConsumers } from './console-consumers.js';
import { deadLetterStreams, deadLetters, decideDeadLetters } from './console-dead-letters.js';
import { ConsoleReader, pageSize, positionParameter } from './console-reader.js';
import { readJsonBody } from './json-body.js';

/** What a handler answers: a status and a JSON body. */
export interface ApiResult {
  status: number;
  body: unknown;
}

/** The console's settings a handler may need. */
export interface ApiSettings {
  client: MessageDbClient;
  allowWrites: boolean;
  /** The database, as safe to show (no password). */
  target: string;
  writeToken: string;
}

const ok = (body: unknown): ApiResult => ({ status: 200, body });
const notFound = (what: string): ApiResult => ({ status: 404, body: { error: `${what} not found` } });

/** Answers GET requests under /api/ (but the live tail). */
export class ConsoleApi {
  readonly #settings: ApiSettings;
  readonly #reader: ConsoleReader;

  constructor(settings: ApiSettings) {
    this.#settings = settings;
    this.#reader = new ConsoleReader(settings.client);
  }

  get reader(): ConsoleReader {
    return this.#reader;
  }

  /** Answer `GET /api/<segments>`, or null when no handler matches. */
  async get(segments: readonly string[], query: URLSearchParams, signal: AbortSignal): Promise<ApiResult | null> {
    const [first, second, third, fourth] = segments;
    const reader = this.#reader;
    if (first === 'info' && second === undefined) return ok(this.#info());
    if (first === 'overview' && second === undefined) return ok(await reader.overview(query.get('after') ?? '', signal));
    if (first === 'categories' && second !== undefined) {
      if (third === undefined) return ok(await reader.category(second, signal));
      if (third === 'streams' && fourth === undefined) return ok(await reader.categoryStreams(second, query.get('from'), signal));
      if (third === 'messages' && fourth === undefined) {
        const before = positionParameter('before', query.get('before'), Number.MAX_SAFE_INTEGER);
        return ok(await reader.categoryMessages(second, before, pageSize(query.get('limit')), query.get('correlation'), signal));
      }
      return null;
    }
    if (first === 'streams' && second !== undefined) {
      if (third === undefined) {
        const direction = query.get('direction') ?? 'backward';
        if (direction !== 'forward' && direction !== 'backward') throw new InvalidArgumentError('direction', `must be forward or backward (got ${direction})`);
        const position = query.has('position') ? positionParameter('position', query.get('position'), 0) : null;
        return ok(await reader.stream(second, direction, position, pageSize(query.get('limit')), signal));
      }
      if (fourth === undefined) {
        const message = await reader.messageAt(second, positionParameter('position', third, 0), signal);
        return message === null ? notFound(`message ${third} of stream ${second}`) : ok({ message });
      }
      return null;
    }
    if (first === 'messages' && second !== undefined && third === undefined) {
      const message = await reader.messageById(second, signal);
      return message === null ? notFound(`message ${second}`) : ok({ message });
    }
    if (first === 'search' && second === undefined) return ok(await reader.search(query.get('q') ?? '', signal));
    if (first === 'consumers' && second === undefined) return ok({ time: new Date().toISOString(), ...(await readConsumers(this.#settings.client, signal)) });
    if (first === 'replicas' && second === undefined) return ok(await this.#settings.client.replicaStats());
    if (first === 'dead-letters' && second === undefined) return ok({ streams: await deadLetterStreams(this.#settings.client, signal) });
    if (first === 'dead-letters' && second !== undefined && third === undefined)
      return ok({ streamName: second, deadLetters: await deadLetters(this.#settings.client, second, signal) });
    if (first === 'doctor' && second === undefined) return ok({ time: new Date().toISOString(), findings: await diagnose(this.#settings.client, { signal }) });
    return null;
  }

  /** Answer `POST /api/<segments>` (writes; the server has checked they are allowed), or null. */
  async post(segments: readonly string[], request: IncomingMessage, signal: AbortSignal): Promise<ApiResult | null> {
    const [first, second, third, fourth] = segments;
    if (first === 'streams' && second !== undefined && third === 'messages' && fourth === undefined) {
      const body = await readJsonBody(request);
      if (typeof body.type !== 'string' || body.type === '') throw new InvalidArgumentError('type', 'must be a message type (a text)');
      const expectedVersion = body.expectedVersion === undefined || body.expectedVersion === null ? undefined : Number(body.expectedVersion);
      const position = await this.#settings.client.writeMessage(
        { streamName: second, type: body.type, data: body.data ?? null, metadata: (body.metadata ?? null) as Record<string, unknown> | null },
        { signal, ...(expectedVersion === undefined ? {} : { expectedVersion }) },
      );
      return ok({ streamName: second, position });
    }
    if (first === 'dead-letters' && second !== undefined && (third === 'replay' || third === 'discard') && fourth === undefined) {
      const body = await readJsonBody(request);
      return ok({ decided: await decideDeadLetters(this.#settings.client, second, third, body.globalPositions, body.reason, signal) });
    }
    return null;
  }

  #info() {
    const { allowWrites, target, writeToken } = this.#settings;
    // The write token goes only to a page that may write; a page from another origin cannot read this answer.
    return { readOnly: !allowWrites, target, ...(allowWrites ? { writeToken } : {}) };
  }
}
