/**
 * Messages as stored, for printing: the same read statements as the client's reads, but `data` and
 * `metadata` stay the JSON text the server sent. The client parses them with JSON.parse, which would
 * print a number stored by another client or by psql (`9007199254740993`, `12345678901234567890`)
 * rounded to a double; the command prints what is stored. Arguments are checked as the client checks
 * them, named as the command names them.
 */
import type { Columns } from '../vocabulary/message.js';
import type { ConsumerGroup } from '../store/read.js';
import type { Runner } from '../engine/runner.js';
import * as sql from '../vocabulary/sql.js';
import { isCategory } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';
import { toSafeInteger } from '../vocabulary/message.js';

/** A message as stored: `data` and `metadata` are the stored JSON text, or null. */
export interface StoredMessage {
  id: string;
  streamName: string;
  type: string;
  position: number;
  globalPosition: number;
  data: string | null;
  metadata: string | null;
  time: Date;
}

/** Columns (id, stream_name, type, position, global_position, data, metadata, time) to a StoredMessage. */
function readStoredMessage(columns: Columns): StoredMessage {
  // Read in column order: an object literal's properties are evaluated left to right.
  return {
    id: columns.text() as string,
    streamName: columns.text() as string,
    type: columns.text() as string,
    position: columns.integer('position'),
    globalPosition: columns.integer('global_position'),
    data: columns.text(),
    metadata: columns.text(),
    time: columns.timestamp(),
  };
}

/** What to read: from `position` (stream position, or global position for a category), `batchSize` at a time. */
export interface StoredReadOptions {
  position?: number | undefined;
  batchSize: number;
  /** Category only. */
  correlation?: string | undefined;
  /** Category only. */
  consumerGroup?: ConsumerGroup | undefined;
}

/** One batch of a stream (a name with `-`) or a category from a position. */
export function getMessages(runner: Runner, name: string, options: StoredReadOptions, signal: AbortSignal): Promise<StoredMessage[]> {
  const decode = { decode: readStoredMessage };
  if (!isCategory(name)) {
    const values = [validate.entityStreamName(name, 'stream'), options.position ?? 0, options.batchSize, null];
    return runner.run(sql.getStreamMessages, values, signal, decode);
  }
  const values = [
    validate.categoryName(name),
    options.position ?? 1,
    options.batchSize,
    options.correlation === undefined ? null : validate.categoryName(options.correlation, '--correlation'),
    options.consumerGroup?.member ?? null,
    options.consumerGroup?.size ?? null,
    null,
  ];
  return runner.run(sql.getCategoryMessages, values, signal, decode);
}

/** The position after a batch's last message: its stream position, or its global position for a category. */
export function nextPosition(name: string, batch: readonly StoredMessage[], position: number): number {
  const last = batch.at(-1);
  if (last === undefined) return position;
  return (isCategory(name) ? last.globalPosition : last.position) + 1;
}

/** Every message of a stream or category from a position on, a batch at a time. */
export async function* readMessages(runner: Runner, name: string, options: StoredReadOptions, signal: AbortSignal): AsyncGenerator<StoredMessage> {
  let position = options.position ?? (isCategory(name) ? 1 : 0);
  for (;;) {
    const batch = await getMessages(runner, name, { ...options, position }, signal);
    yield* batch;
    if (batch.length < options.batchSize) return;
    position = nextPosition(name, batch, position);
  }
}

/** A stream's last message (of `type`, when given), or null. */
export async function getLastStreamMessage(runner: Runner, streamName: string, type: string | undefined, signal: AbortSignal): Promise<StoredMessage | null> {
  const values = [validate.text('stream', streamName), type ?? null];
  const [message] = await runner.run(sql.getLastStreamMessage, values, signal, { decode: readStoredMessage });
  return message ?? null;
}

/**
 * The newest position of a stream or category: the stream's version (-1 when empty), or the
 * category's newest global position (0 when empty).
 */
export async function newestPosition(runner: Runner, name: string, signal: AbortSignal): Promise<number> {
  const category = isCategory(name);
  const [row] = category
    ? await runner.run(sql.categoryHead, [validate.categoryName(name)], signal)
    : await runner.run(sql.streamVersion, [validate.text('stream', name)], signal);
  const value = row?.[0];
  if (value === null || value === undefined) return category ? 0 : -1;
  return toSafeInteger(value, category ? 'global_position' : 'stream_version');
}
