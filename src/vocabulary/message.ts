/**
 * Messages as written and as read back, and the row decoder shared by both engines. Engines hand
 * over every column as text; this module owns how text becomes numbers, JSON and dates.
 */
import { UndecodableValueError, UnsafeIntegerError } from './errors.js';

/** Eventide's metadata keys (`Messaging::Message::Metadata`), plus any others the caller adds. */
export interface Metadata {
  causationMessageStreamName?: string;
  causationMessagePosition?: number;
  causationMessageGlobalPosition?: number;
  correlationStreamName?: string;
  replyStreamName?: string;
  schemaVersion?: string;
  /** Copied by {@link follow}. */
  properties?: Record<string, unknown>;
  /** Persisted, but not copied by {@link follow}. */
  localProperties?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A message read from the store. */
export interface Message<Data = unknown> {
  /** UUID, lowercase. */
  id: string;
  streamName: string;
  type: string;
  /** Gapless 0-based position in its stream. */
  position: number;
  /** Position in the whole store; increases, may have gaps. */
  globalPosition: number;
  /** Parsed JSON, or `null` when written without data. */
  data: Data;
  /** Parsed JSON, or `null` when written without metadata. */
  metadata: Metadata | null;
  /** When the message was written, read as UTC whatever the process's time zone. */
  time: Date;
}

/** A message to write. */
export interface NewMessage<Data = unknown> {
  /** UUID; a random one when omitted. Reusing it makes a retried write safe. */
  id?: string;
  streamName: string;
  type: string;
  /** Any JSON-serialisable value; omitted or `null` is stored as SQL NULL. */
  data?: Data;
  metadata?: Metadata | null;
}

/** Column order of every read statement in sql.ts. */
export type MessageRow = readonly unknown[];

/** Parse a bigint column sent as text, failing loudly past Number.MAX_SAFE_INTEGER. */
export function toSafeInteger(value: unknown, column: string): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(number)) throw new UnsafeIntegerError(column, String(value));
  return number;
}

function parseJson(value: string | null): unknown {
  return value === null ? null : JSON.parse(value);
}

const timestampText = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;

/** The decimal value of text[start, end), or NaN if any character there is not a digit. */
function digitsAt(text: string, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < end; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Epoch milliseconds of `YYYY-MM-DD HH:MM:SS[.f{1,6}]` (the only shape a Message DB timestamp has
 * before year 10000), read at fixed offsets; undefined for any other shape or a field out of range,
 * which the regular expression and `Date.UTC` then handle. Reads decode a timestamp per message,
 * and this is several times faster than the expression; both give the same result.
 */
function parseIsoTimestamp(text: string): number | undefined {
  const length = text.length;
  if (length < 19 || length > 26 || length === 20) return undefined;
  const separator = text.charCodeAt(10);
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    (separator !== 32 && separator !== 84) ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58 ||
    (length > 19 && text.charCodeAt(19) !== 46)
  ) {
    return undefined;
  }
  let milliseconds = 0;
  if (length > 19) {
    // Milliseconds are the first three fraction digits, padded with zeros; the rest must be digits too.
    const fraction = digitsAt(text, 20, Math.min(length, 23));
    if (Number.isNaN(digitsAt(text, 23, length))) return undefined;
    milliseconds = fraction * (length === 21 ? 100 : length === 22 ? 10 : 1);
  }
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 7);
  const day = digitsAt(text, 8, 10);
  const hour = digitsAt(text, 11, 13);
  const minute = digitsAt(text, 14, 16);
  const second = digitsAt(text, 17, 19);
  // Out-of-range fields (and NaN, which fails every comparison) go to Date.UTC in the fallback.
  if (!(year >= 100 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59)) {
    return undefined;
  }
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60000 + second * 1000 + milliseconds;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (month 1-12, year 0 or later), by arithmetic
 * (H. Hinnant's days_from_civil): about half what `Date.UTC` costs, and a read decodes one per message.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/**
 * Parse a `timestamp without time zone` (ISO DateStyle) as UTC. Message DB stores
 * `now() AT TIME ZONE 'utc'`, so the wall-clock value is UTC; a driver's date parser would read it as local.
 * UndecodableValueError for any other text, rather than an Invalid Date that nothing would notice.
 */
export function parseUtcTimestamp(value: unknown): Date {
  const text = String(value);
  let time = parseIsoTimestamp(text);
  if (time === undefined) {
    const [, year, month, day, hour, minute, second, fraction] = timestampText.exec(text) ?? [];
    const milliseconds = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
    time = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), milliseconds);
  }
  if (Number.isNaN(time)) {
    throw new UndecodableValueError('time', text, 'not an ISO timestamp (is the DateStyle of the session ISO?)');
  }
  return new Date(time);
}

/**
 * A row's columns, read one after another in the statement's order: how engines hand a row to a
 * decoder. Over an array of column text ({@link ArrayColumns}: PGlite's rows, and postgres.js' rows
 * with no type parsed), so one decoder serves both engines.
 */
export interface Columns {
  /** The next column's text, or null for SQL NULL. */
  text(): string | null;
  /** The next column, a bigint, as a number; UnsafeIntegerError past Number.MAX_SAFE_INTEGER. */
  integer(column: string): number;
  /** The next column, a `timestamp without time zone`, read as UTC. */
  timestamp(): Date;
}

/** {@link Columns} over an array of column text (or null). `over(row)` starts again on another row. */
export class ArrayColumns implements Columns {
  #row: readonly unknown[];
  #index = 0;

  constructor(row: readonly unknown[] = []) {
    this.#row = row;
  }

  over(row: readonly unknown[]): this {
    this.#row = row;
    this.#index = 0;
    return this;
  }

  text(): string | null {
    const value = this.#row[this.#index++];
    return value === null || value === undefined ? null : (value as string);
  }

  integer(column: string): number {
    return toSafeInteger(this.#row[this.#index++], column);
  }

  timestamp(): Date {
    return parseUtcTimestamp(this.#row[this.#index++]);
  }
}

/** Columns (id, stream_name, type, position, global_position, data, metadata, time) to a Message. */
export function readMessage<Data = unknown>(columns: Columns): Message<Data> {
  // Read in column order: an object literal's properties are evaluated left to right.
  return {
    id: columns.text() as string,
    streamName: columns.text() as string,
    type: columns.text() as string,
    position: columns.integer('position'),
    globalPosition: columns.integer('global_position'),
    data: parseJson(columns.text()) as Data,
    metadata: parseJson(columns.text()) as Metadata | null,
    time: columns.timestamp(),
  };
}

/** A row of column text (id, stream_name, type, position, global_position, data, metadata, time) to a Message. */
export function toMessage<Data = unknown>(row: MessageRow): Message<Data> {
  return readMessage<Data>(new ArrayColumns(row));
}

/**
 * Metadata for a message that follows `preceding`, with Eventide's `follow` semantics: causation
 * from the preceding message's stream, position and global position; correlation stream, reply
 * stream and `properties` carried over; `localProperties` not carried.
 */
export function followMetadata(preceding: Message): Metadata {
  const source = preceding.metadata ?? {};
  const metadata: Metadata = {
    causationMessageStreamName: preceding.streamName,
    causationMessagePosition: preceding.position,
    causationMessageGlobalPosition: preceding.globalPosition,
  };
  if (source.correlationStreamName !== undefined) metadata.correlationStreamName = source.correlationStreamName;
  if (source.replyStreamName !== undefined) metadata.replyStreamName = source.replyStreamName;
  if (source.properties !== undefined && Object.keys(source.properties).length > 0) {
    metadata.properties = { ...source.properties };
  }
  return metadata;
}

/**
 * A new message that follows `preceding` (Eventide's `follow`): its metadata starts from
 * {@link followMetadata}, then the new message's own metadata keys are applied on top.
 *
 * @example await client.writeMessage(follow(command, { streamName: 'account-1', type: 'Deposited', data }))
 */
export function follow<Data>(preceding: Message, message: NewMessage<Data>): NewMessage<Data> {
  const own = message.metadata ?? {};
  const inherited = followMetadata(preceding);
  const properties = { ...inherited.properties, ...own.properties };
  const metadata: Metadata = { ...inherited, ...own };
  if (Object.keys(properties).length > 0) metadata.properties = properties;
  return { ...message, metadata };
}
