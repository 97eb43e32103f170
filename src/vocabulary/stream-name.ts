/**
 * Stream-name helpers that agree exactly with Message DB's server functions `category`, `id`,
 * `cardinal_id`, `is_category` and `hash_64`, and with Eventide's `StreamName`.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

/** The text before the first `-`, or the whole name (server: `split_part(stream_name, '-', 1)`). */
export function category(streamName: string): string {
  const dash = streamName.indexOf('-');
  return dash === -1 ? streamName : streamName.slice(0, dash);
}

/** Everything after the first `-`, or `null` when there is none (server `id()`; `cat-` gives `''`). */
export function id(streamName: string): string | null {
  const dash = streamName.indexOf('-');
  return dash === -1 ? null : streamName.slice(dash + 1);
}

/** The id up to the first `+` (a compound id's first part), or `null` when there is no id. */
export function cardinalId(streamName: string): string | null {
  const streamId = id(streamName);
  if (streamId === null) return null;
  const plus = streamId.indexOf('+');
  return plus === -1 ? streamId : streamId.slice(0, plus);
}

/** True when the name has no `-` (server `is_category()`; `''` is a category too). */
export function isCategory(streamName: string): boolean {
  return !streamName.includes('-');
}

/** The category's types: `account:command+position` gives `['command', 'position']`. */
export function categoryTypes(categoryName: string): string[] {
  const colon = categoryName.indexOf(':');
  return colon === -1
    ? []
    : categoryName
        .slice(colon + 1)
        .split('+')
        .filter((type) => type !== '');
}

/** The entity part of a category: `account:command` gives `account`. */
export function entityName(categoryName: string): string {
  const colon = categoryName.indexOf(':');
  return colon === -1 ? categoryName : categoryName.slice(0, colon);
}

/** Options of {@link streamName}. */
export interface StreamNameOptions {
  /** Category types appended after `:`, joined by `+` (Eventide's `types:`). */
  types?: readonly string[];
}

/**
 * Build a stream name the Eventide way: `category[:type+type][-id[+id]]`.
 *
 * @example streamName('account', '123') // 'account-123'
 * @example streamName('account', ['123', 'abc'], { types: ['command'] }) // 'account:command-123+abc'
 */
export function streamName(categoryName: string, streamId?: string | readonly string[] | null, options: StreamNameOptions = {}): string {
  if (typeof categoryName !== 'string' || categoryName === '') {
    throw new InvalidArgumentError('category', 'must be a non-empty string');
  }
  let name = categoryName;
  const types = options.types ?? [];
  if (types.length > 0) name += (categoryName.includes(':') ? '+' : ':') + types.join('+');
  const ids = streamId === undefined || streamId === null ? [] : typeof streamId === 'string' ? [streamId] : streamId;
  if (ids.length > 0) name += `-${ids.join('+')}`;
  return name;
}

/** Message DB's `hash_64`: the first 8 bytes of md5(utf8(value)) as a signed 64-bit integer. */
export function hash64(value: string): bigint {
  const digest = createHash('md5').update(value, 'utf8').digest();
  return digest.readBigInt64BE(0);
}

/** The largest consumer group the server accepts: it binds the size as `smallint`. */
export const MAX_CONSUMER_GROUP_SIZE = 32767;

/**
 * The consumer group member that receives a stream: `|hash64(cardinalId)| mod size`, the server's
 * filter. Streams without an id have no cardinal id and go to no member (`null`).
 */
export function consumerGroupMember(name: string, size: number): number | null {
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_CONSUMER_GROUP_SIZE) {
    throw new InvalidArgumentError('size', `must be an integer from 1 to ${MAX_CONSUMER_GROUP_SIZE} (got ${String(size)})`);
  }
  const cardinal = cardinalId(name);
  if (cardinal === null) return null;
  const hash = hash64(cardinal);
  const magnitude = hash < 0n ? -hash : hash;
  return Number(magnitude % BigInt(size));
}
