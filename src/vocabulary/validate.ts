/**
 * Argument checks that run before any SQL, so bad input fails fast, names the argument, and writes
 * nothing. They mirror what the server would reject (names too long for Message DB's indexes), and
 * add what the server would silently corrupt (lone surrogates, values JSON cannot represent) or
 * reject with a less helpful text (NUL bytes).
 */
import { InvalidArgumentError } from './errors.js';
import { jsonText } from './json-text.js';
import { MAX_CONSUMER_GROUP_SIZE, category, isCategory } from './stream-name.js';

const uuidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}

/** A non-empty string PostgreSQL text can hold: no NUL byte, no lone UTF-16 surrogate. */
export function text(argument: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(argument, `must be a non-empty string (got ${show(value)})`);
  }
  if (value.includes('\u0000')) throw new InvalidArgumentError(argument, 'must not contain a NUL character');
  if (!value.isWellFormed()) throw new InvalidArgumentError(argument, 'must be well-formed Unicode (it has a lone surrogate)');
  return value;
}

/**
 * Any stream name: `category-id`, or a category-like name (position streams are such names), short
 * enough for the messages_stream index.
 */
export function streamName(value: unknown, argument = 'streamName'): string {
  const name = text(argument, value);
  const bytes = utf8Bytes(name, MAX_STREAM_NAME_BYTES);
  if (bytes > MAX_STREAM_NAME_BYTES) {
    throw new InvalidArgumentError(
      argument,
      `must be at most ${MAX_STREAM_NAME_BYTES} bytes of UTF-8 (got ${bytes}): longer names do not fit Message DB's stream index`,
    );
  }
  return name;
}

/** Writes accept category-like names too; the category index is checked with the message's correlation. */
export const streamNameForWrite = streamName;

/** A stream name with an id (`category-id`), as `get_stream_messages` requires. */
export function entityStreamName(value: unknown, argument = 'streamName'): string {
  const name = streamName(value, argument);
  if (isCategory(name)) throw new InvalidArgumentError(argument, `must be a stream name with an id, not a category (got ${show(name)})`);
  return name;
}

/** A category: a name without `-`, short enough for the messages_category index. */
export function categoryName(value: unknown, argument = 'category'): string {
  const name = text(argument, value);
  if (!isCategory(name)) throw new InvalidArgumentError(argument, `must be a category, without "-" (got ${show(name)})`);
  const bytes = utf8Bytes(name, MAX_CATEGORY_BYTES);
  if (bytes > MAX_CATEGORY_BYTES) {
    throw new InvalidArgumentError(
      argument,
      `must be at most ${MAX_CATEGORY_BYTES} bytes of UTF-8 (got ${bytes}): longer categories do not fit Message DB's category index`,
    );
  }
  return name;
}

// Message DB's btree indexes refuse an entry larger than PostgreSQL's BTMaxItemSize, 2704 bytes
// on 8 kB pages (btree version 4, PostgreSQL 12 and later; PGlite the same), with
// `54000 index row size ... exceeds btree version 4 maximum 2704`. The limits below are that size
// worked back through the entries' layout, measured on both engines with text that does not
// compress: the server compresses a large entry first, so some longer but repetitive names fit;
// a limit that depends on compressibility would be no limit to document.
const MAX_INDEX_ENTRY_BYTES = 2704;
/** Longest stream name in UTF-8 bytes: a messages_stream entry is (stream_name, position). */
export const MAX_STREAM_NAME_BYTES = 2684;
/** Longest category in UTF-8 bytes: a messages_category entry is (category, global_position, correlation's category). */
export const MAX_CATEGORY_BYTES = 2676;

/** UTF-8 length of `text`, computed only when it could exceed `limit` (a UTF-16 unit takes at most 3 bytes). */
function utf8Bytes(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : Buffer.byteLength(text, 'utf8');
}

const align8 = (bytes: number): number => Math.ceil(bytes / 8) * 8;
/** A text datum in an index entry: a 1-byte header up to 126 bytes, else a 4-byte one. */
const varlena = (bytes: number): number => (bytes <= 126 ? 1 : 4) + bytes;

/**
 * A write's messages_category entry must fit: the stream's category, then the category of
 * `metadata.correlationStreamName` (SQL NULL without one, which adds a null bitmap instead).
 * Reads need no such check: the server builds no entry to look one up.
 */
export function categoryIndexEntry(streamName: string, correlation: string | undefined, argument: string): void {
  const categoryText = category(streamName);
  const correlationText = correlation === undefined ? undefined : category(correlation);
  if ((categoryText.length + (correlationText?.length ?? 0)) * 3 + 40 <= MAX_INDEX_ENTRY_BYTES) return;
  const categoryBytes = Buffer.byteLength(categoryText, 'utf8');
  if (correlationText === undefined) {
    if (align8(align8(16 + varlena(categoryBytes)) + 8) <= MAX_INDEX_ENTRY_BYTES) return;
    throw new InvalidArgumentError(
      `${argument}.streamName`,
      `has a category of ${categoryBytes} bytes of UTF-8, over the ${MAX_CATEGORY_BYTES} that fit Message DB's category index`,
    );
  }
  const correlationBytes = Buffer.byteLength(correlationText, 'utf8');
  const entry = align8(align8(8 + varlena(categoryBytes)) + 8 + varlena(correlationBytes));
  if (entry <= MAX_INDEX_ENTRY_BYTES) return;
  throw new InvalidArgumentError(
    `${argument}.metadata.correlationStreamName`,
    `has a category of ${correlationBytes} bytes of UTF-8, too long beside the stream's category of ${categoryBytes}: ` +
      `together they need a category index entry of ${entry} bytes, over PostgreSQL's ${MAX_INDEX_ENTRY_BYTES}`,
  );
}

/** A UUID, normalised to lowercase like the server's uuid cast. */
export function uuid(value: unknown, argument = 'id'): string {
  if (typeof value !== 'string' || !uuidText.test(value)) {
    throw new InvalidArgumentError(argument, `must be a UUID (got ${show(value)})`);
  }
  return value.toLowerCase();
}

/** An integer in a range, as a safe JS number. */
export function integer(argument: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new InvalidArgumentError(argument, `must be an integer ${range} (got ${show(value)})`);
  }
  return value;
}

/** `expectedVersion`: undefined/null (no check), -1 (no stream) or a version >= 0. */
export function expectedVersion(value: unknown): number | null {
  return value === undefined || value === null ? null : integer('expectedVersion', value, -1);
}

/** `batchSize`: 1 or more, or -1 for everything (Message DB 1.2.2+). */
export function batchSize(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === -1) return -1;
  return integer('batchSize', value, 1);
}

/** A consumer group, checked as the server does, including its smallint size limit. */
export function consumerGroup(value: unknown): { member: number; size: number } | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') throw new InvalidArgumentError('consumerGroup', `must be { member, size } (got ${show(value)})`);
  const { member, size } = value as { member?: unknown; size?: unknown };
  const checkedSize = integer('consumerGroup.size', size, 1, MAX_CONSUMER_GROUP_SIZE);
  const checkedMember = integer('consumerGroup.member', member, 0, checkedSize - 1);
  return { member: checkedMember, size: checkedSize };
}

/** jsonb's largest value (JENTRY_OFFLENMASK): "total size of jsonb ... exceeds the maximum of 268435455 bytes". */
export const MAX_JSONB_BYTES = 268_435_455;

/**
 * JSON text for a jsonb parameter, or null (SQL NULL) for undefined and null. Refuses, naming the
 * path of the value, everything JSON.stringify would silently change (see json-text.ts).
 */
export function json(argument: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const serialised = jsonText(argument, value);
  // The text stands in for jsonb's binary size, which is near it, without a second walk.
  if (serialised.length * 3 > MAX_JSONB_BYTES) {
    const bytes = Buffer.byteLength(serialised, 'utf8');
    if (bytes > MAX_JSONB_BYTES) throw new InvalidArgumentError(argument, `is ${bytes} bytes of JSON, over jsonb's limit of ${MAX_JSONB_BYTES}`);
  }
  return serialised;
}

/** Metadata: a plain object (or one whose toJSON yields one), or nothing. */
export function metadata(value: unknown, argument = 'metadata'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, `must be an object (got ${Array.isArray(value) ? 'an array' : typeof value})`);
  }
  const serialised = json(argument, value) as string;
  // An object with toJSON (a Date, say) can serialise to a string or an array, which would read
  // back as metadata that is not an object.
  if (!serialised.startsWith('{')) throw new InvalidArgumentError(argument, 'must serialise to a JSON object (it has a toJSON method)');
  return serialised;
}

/**
 * The `correlationStreamName` stored in `metadata` (given as its value and its checked JSON text):
 * a string, or undefined when there is none. Message DB reads it as a stream name (the correlation
 * filter, the category index), so any other value is refused.
 */
export function correlationStreamName(value: unknown, serialised: string | null, argument: string): string | undefined {
  if (serialised === null || !serialised.includes('"correlationStreamName":')) return undefined;
  // What is stored is toJSON's result when the metadata has one; parse only then.
  const source = typeof (value as { toJSON?: unknown }).toJSON === 'function' ? JSON.parse(serialised) : value;
  const correlation = (source as { correlationStreamName?: unknown }).correlationStreamName;
  if (correlation === undefined || correlation === null) return undefined;
  if (typeof correlation !== 'string')
    throw new InvalidArgumentError(`${argument}.correlationStreamName`, `must be a stream name, a string (got ${typeof correlation})`);
  return correlation;
}

/** An optional AbortSignal. */
export function signal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new InvalidArgumentError('signal', 'must be an AbortSignal');
  return value;
}
