/**
 * Messages as stored, for printing: Message DB's own read functions through `client.query()`, whose
 * columns are text, so `data` and `metadata` stay the JSON text the server sent. The client's reads
 * parse them with JSON.parse, which would print a number stored by another client or by psql
 * (`9007199254740993`, `12345678901234567890`) rounded to a double; the command prints what is
 * stored. Arguments are checked as the client checks them, named as the command names them.
 */
import type { MessageDbClient } from '../store/client.js';
import type { ConsumerGroup } from '../store/read.js';
import { parseUtcTimestamp, toSafeInteger } from '../vocabulary/message.js';
import { isCategory } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';
import * as statements from './statements.js';

/** A row as `client.query()` gives it: each column's text, or null. */
type SqlRow = Record<string, string | null>;

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

/** A row of a read function (id, stream_name, type, position, global_position, data, metadata, time) to a StoredMessage. */
function storedMessage(row: SqlRow): StoredMessage {
  return {
    id: String(row.id),
    streamName: String(row.stream_name),
    type: String(row.type),
    position: toSafeInteger(row.position, 'position'),
    globalPosition: toSafeInteger(row.global_position, 'global_position'),
    data: row.data ?? null,
    metadata: row.metadata ?? null,
    time: parseUtcTimestamp(row.time),
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
export async function getMessages(client: MessageDbClient, name: string, options: StoredReadOptions, signal: AbortSignal): Promise<StoredMessage[]> {
  if (!isCategory(name)) {
    const values = [validate.entityStreamName(name, 'stream'), options.position ?? 0, options.batchSize];
    return (await client.query(statements.getStreamMessages, values, { signal, readOnly: true })).map(storedMessage);
  }
  const values = [
    validate.categoryName(name),
    options.position ?? 1,
    options.batchSize,
    options.correlation === undefined ? null : validate.categoryName(options.correlation, '--correlation'),
    options.consumerGroup?.member ?? null,
    options.consumerGroup?.size ?? null,
  ];
  return (await client.query(statements.getCategoryMessages, values, { signal, readOnly: true })).map(storedMessage);
}

/** The position after a batch's last message: its stream position, or its global position for a category. */
export function nextPosition(name: string, batch: readonly StoredMessage[], position: number): number {
  const last = batch.at(-1);
  if (last === undefined) return position;
  return (isCategory(name) ? last.globalPosition : last.position) + 1;
}

/** Every message of a stream or category from a position on, a batch at a time. */
export async function* readMessages(client: MessageDbClient, name: string, options: StoredReadOptions, signal: AbortSignal): AsyncGenerator<StoredMessage> {
  let position = options.position ?? (isCategory(name) ? 1 : 0);
  for (;;) {
    const batch = await getMessages(client, name, { ...options, position }, signal);
    yield* batch;
    if (batch.length < options.batchSize) return;
    position = nextPosition(name, batch, position);
  }
}

/** A stream's last message (of `type`, when given), or null. */
export async function getLastStreamMessage(
  client: MessageDbClient,
  streamName: string,
  type: string | undefined,
  signal: AbortSignal,
): Promise<StoredMessage | null> {
  const values = [validate.text('stream', streamName), type ?? null];
  const [row] = await client.query(statements.getLastStreamMessage, values, { signal, readOnly: true });
  return row === undefined ? null : storedMessage(row);
}

/**
 * The newest position of a stream or category: the stream's version (-1 when empty), or the
 * category's newest global position (0 when empty).
 */
export function newestPosition(client: MessageDbClient, name: string, signal: AbortSignal): Promise<number> {
  return isCategory(name)
    ? client.categoryHead(validate.categoryName(name), { signal })
    : client.streamVersion(validate.streamName(name, 'stream'), { signal });
}
