/**
 * Argument checks that run before any SQL, so bad input fails fast, names the argument, and writes
 * nothing. They mirror what the server would reject, and add what the server would silently corrupt
 * (lone surrogates) or reject with a less helpful text (NUL bytes, non-JSON data).
 */
import { InvalidArgumentError } from './errors.js';
import { MAX_CONSUMER_GROUP_SIZE, isCategory } from './stream-name.js';

const uuidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
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

/** Any non-empty name; writes accept category-like names (position streams are such names). */
export const streamNameForWrite = (value: unknown, argument = 'streamName'): string => text(argument, value);

/** A stream name with an id (`category-id`), as `get_stream_messages` requires. */
export function entityStreamName(value: unknown, argument = 'streamName'): string {
  const name = text(argument, value);
  if (isCategory(name)) throw new InvalidArgumentError(argument, `must be a stream name with an id, not a category (got ${show(name)})`);
  return name;
}

/** A category: a name without `-`. */
export function categoryName(value: unknown, argument = 'category'): string {
  const name = text(argument, value);
  if (!isCategory(name)) throw new InvalidArgumentError(argument, `must be a category, without "-" (got ${show(name)})`);
  return name;
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

/** JSON text for a jsonb parameter, or null. Rejects values JSON cannot represent or jsonb cannot store. */
export function json(argument: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  let serialised: string | undefined;
  try {
    serialised = JSON.stringify(value);
  } catch (error) {
    throw new InvalidArgumentError(argument, `must be JSON-serialisable (${(error as Error).message})`, { cause: error });
  }
  if (serialised === undefined) throw new InvalidArgumentError(argument, `must be JSON-serialisable (got ${typeof value})`);
  // jsonb rejects \u0000 ("unsupported Unicode escape sequence") and lone surrogates, which
  // JSON.stringify escapes as \udXXX (well-formed pairs stay raw); an even run of backslashes
  // before the escape means it is literal text instead. Text without any `\u` (nearly all of it)
  // skips the expression.
  const escape = serialised.includes('\\u') ? /(?<!\\)(?:\\\\)*\\u(0000|d[89a-f])/.exec(serialised) : null;
  if (escape !== null) {
    throw new InvalidArgumentError(
      argument,
      escape[1] === '0000' ? 'must not contain a NUL character in any string' : 'must be well-formed Unicode (a string has a lone surrogate)',
    );
  }
  return serialised;
}

/** Metadata must be a plain JSON object (or nothing). */
export function metadata(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError('metadata', `must be an object (got ${Array.isArray(value) ? 'an array' : typeof value})`);
  }
  const serialised = json('metadata', value);
  // An object with toJSON (a Date, say) can serialise to a string or an array, which would read
  // back as metadata that is not an object.
  if (serialised !== null && !serialised.startsWith('{')) throw new InvalidArgumentError('metadata', 'must serialise to a JSON object (it has a toJSON method)');
  return serialised;
}

/** An optional AbortSignal. */
export function signal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new InvalidArgumentError('signal', 'must be an AbortSignal');
  return value;
}
