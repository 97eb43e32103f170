/**
 * Reads: the server's reading functions, and iterators that page through a stream or category
 * holding at most one batch in memory.
 */
import { filterCondition, type MessageFilter } from '../vocabulary/condition.js';
import { ConditionNotEnabledError, InvalidArgumentError } from '../vocabulary/errors.js';
import { readMessage, toSafeInteger, type Message } from '../vocabulary/message.js';
import type { ReadRouteOptions } from '../replica/read-router.js';
import type { Runner } from '../engine/runner.js';
import * as sql from '../vocabulary/sql.js';
import * as validate from '../vocabulary/validate.js';

/** Options every read takes (`primary` and `after` matter only on a client with read replicas). */
export interface ReadOptions extends ReadRouteOptions {
  signal?: AbortSignal;
}

/** `getStreamMessages` options (server defaults: position 0, batch size 1000). */
export interface GetStreamMessagesOptions extends ReadOptions {
  /** First stream position to read (inclusive). */
  position?: number;
  /** 1 or more, or -1 for all. */
  batchSize?: number;
  /** Raw SQL appended to the server's WHERE clause; needs `allowCondition` on the client. */
  condition?: string;
  /** Only messages of these types, or with these data fields (compiled to a safe condition; no `allowCondition` needed). */
  filter?: MessageFilter;
}

/** A consumer group: this member's share of the category's streams. */
export interface ConsumerGroup {
  member: number;
  size: number;
}

/** `getCategoryMessages` options (server defaults: position 1, batch size 1000). */
export interface GetCategoryMessagesOptions extends ReadOptions {
  /** First global position to read (inclusive). */
  position?: number;
  batchSize?: number;
  /** Only messages whose metadata `correlationStreamName` is in this category. */
  correlation?: string;
  consumerGroup?: ConsumerGroup;
  condition?: string;
  /** Only messages of these types, or with these data fields (compiled to a safe condition; no `allowCondition` needed). */
  filter?: MessageFilter;
}

/** `getLastStreamMessage` options. */
export interface GetLastStreamMessageOptions extends ReadOptions {
  /** Only the last message of this type (Message DB 1.3.0+). */
  type?: string;
}

/** The session facts reads depend on. */
export interface ReadContext {
  runner: Runner;
  allowCondition: boolean;
}

function condition(context: ReadContext, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (!context.allowCondition) throw new ConditionNotEnabledError();
  return validate.text('condition', value);
}

/** The compiled filter, or null; a read takes a filter or a raw condition, not both. */
function filter(options: { filter?: unknown; condition?: unknown }): string | null {
  const compiled = filterCondition(options.filter);
  if (compiled !== null && options.condition !== undefined && options.condition !== null) {
    throw new InvalidArgumentError('filter', 'cannot be combined with a raw condition: give one or the other');
  }
  return compiled;
}

export async function getStreamMessages<Data = unknown>(
  context: ReadContext,
  streamName: string,
  options: GetStreamMessagesOptions = {},
): Promise<Message<Data>[]> {
  const filtered = filter(options);
  const values = [
    validate.entityStreamName(streamName),
    options.position === undefined ? 0 : validate.integer('position', options.position, 0),
    validate.batchSize(options.batchSize, 1000),
    filtered ?? condition(context, options.condition),
  ];
  const statement = filtered === null ? sql.getStreamMessages : sql.getStreamMessagesFiltered;
  return context.runner.run(statement, values, validate.signal(options.signal), { decode: readMessage<Data> });
}

export async function getCategoryMessages<Data = unknown>(
  context: ReadContext,
  category: string,
  options: GetCategoryMessagesOptions = {},
): Promise<Message<Data>[]> {
  const group = validate.consumerGroup(options.consumerGroup);
  const filtered = filter(options);
  const values = [
    validate.categoryName(category),
    options.position === undefined ? 1 : validate.integer('position', options.position, 0),
    validate.batchSize(options.batchSize, 1000),
    options.correlation === undefined ? null : validate.categoryName(options.correlation, 'correlation'),
    group?.member ?? null,
    group?.size ?? null,
    filtered ?? condition(context, options.condition),
  ];
  const statement = filtered === null ? sql.getCategoryMessages : sql.getCategoryMessagesFiltered;
  return context.runner.run(statement, values, validate.signal(options.signal), { decode: readMessage<Data> });
}

export async function getLastStreamMessage<Data = unknown>(
  context: ReadContext,
  streamName: string,
  options: GetLastStreamMessageOptions = {},
): Promise<Message<Data> | null> {
  const type = options.type === undefined ? null : validate.text('type', options.type);
  const [message] = await context.runner.run(sql.getLastStreamMessage, [validate.streamName(streamName), type], validate.signal(options.signal), {
    decode: readMessage<Data>,
  });
  return message ?? null;
}

/** The stream's version (its last position), or -1 (Eventide's `no_stream`) when it is empty. */
export async function streamVersion(context: ReadContext, streamName: string, options: ReadOptions = {}): Promise<number> {
  const rows = await context.runner.run(sql.streamVersion, [validate.streamName(streamName)], validate.signal(options.signal));
  const version = rows[0]?.[0];
  return version === null || version === undefined ? -1 : toSafeInteger(version, 'stream_version');
}

/** The global position of the category's newest message, or 0 when it has none. */
export async function categoryHead(context: ReadContext, category: string, options: ReadOptions = {}): Promise<number> {
  const rows = await context.runner.run(sql.categoryHead, [validate.categoryName(category)], validate.signal(options.signal));
  const head = rows[0]?.[0];
  return head === null || head === undefined ? 0 : toSafeInteger(head, 'global_position');
}

/** Fetches one batch from a position: a stream or category read, observed or not. */
export type BatchReader<Options> = (options: Options) => Promise<Message[]>;

/**
 * Every message of a stream from `position` on, fetched a batch at a time through `fetch`
 * (next position: the last message's position + 1).
 */
export async function* readStream<Data = unknown>(
  fetch: BatchReader<GetStreamMessagesOptions>,
  options: GetStreamMessagesOptions = {},
): AsyncGenerator<Message<Data>, void, undefined> {
  yield* paginate<Data, GetStreamMessagesOptions>(fetch, options, options.position ?? 0, (last) => last.position + 1);
}

/** Every message of a category from global `position` on, fetched a batch at a time through `fetch`. */
export async function* readCategory<Data = unknown>(
  fetch: BatchReader<GetCategoryMessagesOptions>,
  options: GetCategoryMessagesOptions = {},
): AsyncGenerator<Message<Data>, void, undefined> {
  yield* paginate<Data, GetCategoryMessagesOptions>(fetch, options, options.position ?? 1, (last) => last.globalPosition + 1);
}

async function* paginate<Data, Options extends { position?: number; batchSize?: number }>(
  fetch: BatchReader<Options>,
  options: Options,
  start: number,
  next: (last: Message) => number,
): AsyncGenerator<Message<Data>, void, undefined> {
  let position = start;
  const batchSize = validate.batchSize(options.batchSize, 1000);
  for (;;) {
    const batch = await fetch({ ...options, position, batchSize });
    for (const message of batch) yield message as Message<Data>;
    const last = batch.at(-1);
    // A short batch means the end was reached when it was read; -1 read everything at once.
    if (last === undefined || batchSize === -1 || batch.length < batchSize) return;
    position = next(last);
  }
}
