/**
 * What the console's views show, read through the public client with the console's own statements.
 * Every read is bounded: lists are paged by category name, stream name or position, and counts are
 * taken over a window of the newest messages, said so (`atLeast`) when the window is full.
 */
import type { MessageDbClient } from '../store/client.js';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import { category as categoryOf } from '../vocabulary/stream-name.js';
import { type CategoryEstimator, categoryEstimator } from './category-estimate.js';
import * as statements from './console-statements.js';

/** A message as the browser gets it: `data` and `metadata` are the JSON text stored. */
export interface ConsoleMessage {
  id: string;
  streamName: string;
  type: string;
  position: number;
  globalPosition: number;
  data: string | null;
  metadata: string | null;
  /** ISO 8601, UTC. */
  time: string;
}

/**
 * A count over a window of the newest messages: exact unless `atLeast` (the window was full); then
 * `estimate` is the planner's estimate of the whole, when the index has statistics.
 */
export interface WindowCount {
  count: number;
  atLeast: boolean;
  estimate?: number;
}

/** How many newest messages of a category the overview looks at. */
export const OVERVIEW_WINDOW = 200;
/** How many newest messages of a category its type counts look at. */
export const TYPES_WINDOW = 10_000;
/** Categories read at most where every one is needed (finding position and dead-letter streams). */
export const CATEGORY_COUNT_LIMIT = 10_000;
/** Categories the overview counts at most (one index probe each, on every overview). */
const OVERVIEW_CATEGORY_COUNT = 1000;
const OVERVIEW_PAGE = 50;
const STREAMS_PAGE = 50;
/** Stream names walked at most for one page of a category's streams (names of other categories included). */
const STREAMS_WALK = 2000;
const MESSAGES_PAGE = 20;
const MAX_PAGE = 200;

type Row = Record<string, unknown>;

const integer = (value: unknown): number => Number(value);
/** A boolean column's text (`t`/`f` on the wire). */
export const isTrue = (value: unknown): boolean => value === true || value === 't' || value === 'true';
const optionalText = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

function windowCount(category: string, count: number, window: number, estimate: CategoryEstimator): WindowCount {
  if (count < window) return { count, atLeast: false };
  const estimated = estimate(category);
  return estimated === null || estimated < count ? { count, atLeast: true } : { count, atLeast: true, estimate: estimated };
}

/** A row of the console's message columns as a ConsoleMessage. */
export function toConsoleMessage(row: Row): ConsoleMessage {
  return {
    id: String(row.id),
    streamName: String(row.stream_name),
    type: String(row.type),
    position: integer(row.position),
    globalPosition: integer(row.global_position),
    data: optionalText(row.data),
    metadata: optionalText(row.metadata),
    time: String(row.time),
  };
}

/** A page size from the query string: `fallback` when absent, else 1..200. */
export function pageSize(text: string | null, fallback = MESSAGES_PAGE): number {
  if (text === null) return fallback;
  const size = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_PAGE)
    throw new InvalidArgumentError('limit', `must be a whole number from 1 to ${MAX_PAGE} (got ${text})`);
  return size;
}

/** A position or global position from the query string, or `fallback` when absent. */
export function positionParameter(name: string, text: string | null, fallback: number): number {
  if (text === null) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(name, `must be a whole number of at least 0 (got ${text})`);
  return value;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `text` has the form of a message id (a UUID). */
export const isMessageId = (text: string): boolean => uuidPattern.test(text);

/** The console's reads over one client. */
export class ConsoleReader {
  readonly #client: MessageDbClient;

  constructor(client: MessageDbClient) {
    this.#client = client;
  }

  #query(sql: string, params: readonly unknown[], signal?: AbortSignal): Promise<Row[]> {
    return this.#client.query(sql, params, { readOnly: true, ...(signal === undefined ? {} : { signal }) });
  }

  /** A page of categories after `after` with their windows, and the store's totals. */
  async overview(after: string, signal?: AbortSignal) {
    const names = await this.#query(statements.categoriesAfter(), [after, OVERVIEW_PAGE + 1], signal);
    const page = names.slice(0, OVERVIEW_PAGE).map((row) => String(row.category));
    const windows = page.length === 0 ? [] : await this.#query(statements.categoryWindows(), [JSON.stringify(page), OVERVIEW_WINDOW], signal);
    const [head = {}] = await this.#query(statements.storeHead(), [], signal);
    const [counted = {}] = await this.#query(statements.countCategories(), ['', OVERVIEW_CATEGORY_COUNT + 1], signal);
    const estimate = await categoryEstimator(this.#client, signal);
    const categoryCount = integer(counted.categories);
    const rows = head.estimate === null || head.estimate === undefined ? -1 : integer(head.estimate);
    return {
      totals: {
        headGlobalPosition: head.head === null ? 0 : integer(head.head),
        // reltuples is -1 (or 0) until the table is first vacuumed or analyzed.
        estimatedMessages: rows > 0 ? rows : null,
        categories: { count: Math.min(categoryCount, OVERVIEW_CATEGORY_COUNT), atLeast: categoryCount > OVERVIEW_CATEGORY_COUNT },
      },
      window: OVERVIEW_WINDOW,
      categories: windows.map((row) => {
        const messages = integer(row.messages);
        const perMinute = row.per_minute === null ? {} : (JSON.parse(String(row.per_minute)) as Record<string, number>);
        return {
          category: String(row.category),
          messages: windowCount(String(row.category), messages, OVERVIEW_WINDOW, estimate),
          streams: { count: integer(row.streams), atLeast: messages >= OVERVIEW_WINDOW } satisfies WindowCount,
          newestTime: optionalText(row.newest_time),
          headGlobalPosition: integer(row.head),
          // Oldest minute first, the current minute last.
          perMinute: Array.from({ length: 30 }, (_, index) => perMinute[String(29 - index)] ?? 0),
        };
      }),
      next: names.length > OVERVIEW_PAGE ? (page.at(-1) ?? null) : null,
    };
  }

  /** A category's head, newest time, and message types over its newest messages. */
  async category(category: string, signal?: AbortSignal) {
    const [window = {}] = await this.#query(statements.categoryWindows(), [JSON.stringify([category]), TYPES_WINDOW], signal);
    const types = await this.#query(statements.categoryTypes(), [category, TYPES_WINDOW], signal);
    const messages = integer(window.messages ?? 0);
    return {
      category,
      messages: windowCount(category, messages, TYPES_WINDOW, messages >= TYPES_WINDOW ? await categoryEstimator(this.#client, signal) : () => null),
      streams: { count: integer(window.streams ?? 0), atLeast: messages >= TYPES_WINDOW } satisfies WindowCount,
      newestTime: optionalText(window.newest_time),
      headGlobalPosition: window.head === null || window.head === undefined ? 0 : integer(window.head),
      window: TYPES_WINDOW,
      types: types.map((row) => ({ type: String(row.type), messages: integer(row.messages) })),
    };
  }

  /** A page of a category's streams in name order, from `from` on (the category's name for the first page). */
  async categoryStreams(category: string, from: string | null, signal?: AbortSignal) {
    const rows = await this.#query(statements.categoryStreams(), [category, from ?? category, STREAMS_PAGE + 1, STREAMS_WALK], signal);
    const members = rows.filter((row) => isTrue(row.member));
    const last = rows.at(-1);
    const walkedOn = last !== undefined && isTrue(last.in_range);
    // The walk stops at a full page (plus one, the next page's first), after STREAMS_WALK names, or past the category's names.
    const next =
      members.length > STREAMS_PAGE ? String(members[STREAMS_PAGE]?.stream_name) : walkedOn && rows.length >= STREAMS_WALK ? String(last.stream_name) : null;
    return {
      category,
      streams: members.slice(0, STREAMS_PAGE).map((row) => ({
        streamName: String(row.stream_name),
        version: integer(row.version),
        lastType: String(row.type),
        globalPosition: integer(row.global_position),
        time: String(row.time),
      })),
      next,
    };
  }

  /**
   * A category's newest messages before global position `before`, newest first (with `correlation`,
   * only those correlated with that category, among its newest TYPES_WINDOW), and the category's head.
   */
  async categoryMessages(category: string, before: number, limit: number, correlation: string | null, signal?: AbortSignal) {
    const rows =
      correlation === null
        ? await this.#query(statements.categoryMessagesBefore(), [category, before, limit], signal)
        : await this.#query(statements.correlatedMessagesBefore(), [category, before, correlation, TYPES_WINDOW, limit], signal);
    const [head = {}] = await this.#query(statements.categoryHead(), [category], signal);
    return { messages: rows.map(toConsoleMessage), headGlobalPosition: head.head === null || head.head === undefined ? 0 : integer(head.head) };
  }

  /** A category's messages after global position `after`, oldest first (what the live tail sends); with `correlation`, only those correlated with it. */
  async categoryMessagesAfter(category: string, after: number, limit: number, correlation: string | null, signal?: AbortSignal): Promise<ConsoleMessage[]> {
    const rows =
      correlation === null
        ? await this.#query(statements.categoryMessagesAfter(), [category, after, limit], signal)
        : await this.#query(statements.correlatedMessagesAfter(), [category, after, correlation, limit], signal);
    return rows.map(toConsoleMessage);
  }

  /**
   * A page of a stream's messages: `forward` from `position` on, or `backward` from `position` back
   * (the stream's version when absent: newest first).
   */
  async stream(streamName: string, direction: 'forward' | 'backward', position: number | null, limit: number, signal?: AbortSignal) {
    const [versionRow = {}] = await this.#query(statements.streamVersion(), [streamName], signal);
    const version = versionRow.version === null || versionRow.version === undefined ? null : integer(versionRow.version);
    const from = position ?? (direction === 'forward' ? 0 : (version ?? 0));
    const statement = direction === 'forward' ? statements.streamMessagesForward() : statements.streamMessagesBackward();
    const messages = version === null ? [] : (await this.#query(statement, [streamName, from, limit], signal)).map(toConsoleMessage);
    return { streamName, category: categoryOf(streamName), version, direction, messages };
  }

  /** The message at `position` of a stream, or null. */
  async messageAt(streamName: string, position: number, signal?: AbortSignal): Promise<ConsoleMessage | null> {
    const [row] = await this.#query(statements.messageAt(), [streamName, position], signal);
    return row === undefined ? null : toConsoleMessage(row);
  }

  /** The message with this id, or null. */
  async messageById(id: string, signal?: AbortSignal): Promise<ConsoleMessage | null> {
    if (!isMessageId(id)) throw new InvalidArgumentError('id', `must be a message id, a UUID (got ${JSON.stringify(id)})`);
    const [row] = await this.#query(statements.messageById(), [id], signal);
    return row === undefined ? null : toConsoleMessage(row);
  }

  /** What `text` names: a message (by id), a stream, a category (each when it has messages). */
  async search(text: string, signal?: AbortSignal) {
    const query = text.trim();
    if (query === '') throw new InvalidArgumentError('q', 'must be a message id or a stream name (got an empty text)');
    const message = isMessageId(query) ? await this.messageById(query, signal) : null;
    const [versionRow = {}] = await this.#query(statements.streamVersion(), [query], signal);
    const stream = versionRow.version === null || versionRow.version === undefined ? null : { streamName: query, version: integer(versionRow.version) };
    const [latest] = await this.#query(statements.categoryMessagesBefore(), [query, Number.MAX_SAFE_INTEGER, 1], signal);
    const category = latest === undefined ? null : { category: query, headGlobalPosition: integer(latest.global_position) };
    return { query, message, stream, category };
  }
}
