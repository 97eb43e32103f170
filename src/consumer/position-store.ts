/**
 * Where a consumer keeps its position: exactly Eventide's `Consumer::Postgres::PositionStore`, so a
 * consumer written with this package and an Eventide (Ruby) consumer can take over each other's
 * position streams.
 */
import type { MessageDbClient } from '../store/client.js';
import { checkRecordedConsumerGroup, recordedConsumerGroup } from './group-record.js';
import {
  isPositionConflictError,
  recordPosition,
  type PositionConflictError,
  type PositionRecordedData,
  type RecordPositionOptions,
} from './position-record.js';
import type { ConsumerGroup } from '../store/read.js';
import { category, categoryTypes, entityName } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';

// Position records themselves: their type, data and the checked write.
export {
  POSITION_RECORDED_TYPE,
  PositionConflictError,
  isPositionConflictError,
  recordPosition,
  type PositionRecordedData,
  type RecordPositionOptions,
} from './position-record.js';

/**
 * The position stream of a consumer of `category` (Eventide's
 * `Consumer::Postgres::PositionStore::StreamName`): the category's entity, its types plus
 * `position` (added once), and the identifier as the stream id.
 *
 * @example positionStreamName('account', 'worker-1') // 'account:position-worker-1'
 * @example positionStreamName('account:command', 'x') // 'account:command+position-x'
 */
export function positionStreamName(category: string, identifier?: string): string {
  return consumerStreamName(category, 'position', identifier);
}

/**
 * A stream of a consumer of `category` kept beside it in the style of Eventide's position stream:
 * the category's entity, its types plus `type` (added once), and the identifier as the stream id.
 */
export function consumerStreamName(category: string, type: string, identifier?: string): string {
  validate.categoryName(category);
  const types = categoryTypes(category);
  if (!types.includes(type)) types.push(type);
  const name = `${entityName(category)}:${types.join('+')}`;
  return identifier === undefined ? name : `${name}-${validate.text('identifier', identifier)}`;
}

/**
 * The category whose consumers keep their positions in `positionStream` (a position stream's name, or
 * its category): the inverse of {@link positionStreamName}.
 *
 * @example consumerCategory('account:command+position-x') // 'account:command'
 */
export function consumerCategory(positionStream: string): string {
  const positionCategory = category(positionStream);
  const types = categoryTypes(positionCategory).filter((type) => type !== 'position');
  return types.length === 0 ? entityName(positionCategory) : `${entityName(positionCategory)}:${types.join('+')}`;
}

/**
 * Reads and records one consumer's position in its position stream, always on the primary (a
 * client with read replicas reads them for everything else). A group member's records carry its
 * group, and reading a record of another group size fails (ConsumerGroupMismatchError). Records
 * are written at the stream version this store last read or wrote, so a second consumer with the
 * same identifier is found out at its first record (PositionConflictError).
 */
export class PositionStore {
  readonly streamName: string;
  readonly #client: MessageDbClient;
  readonly #consumerGroup: ConsumerGroup | undefined;
  /** The position stream's version as last read or written; undefined before `get()`. */
  #version: number | undefined;
  /** Set once a record found another writer: nothing more is written until the next `get()`. */
  #conflict: PositionConflictError | undefined;

  constructor(client: MessageDbClient, streamName: string, consumerGroup?: ConsumerGroup) {
    this.#client = client;
    this.streamName = streamName;
    this.#consumerGroup = consumerGroup;
  }

  /**
   * The recorded position, or null when none was recorded. Eventide reads the stream's last message
   * whatever its type, and so does this.
   */
  async get(signal?: AbortSignal): Promise<number | null> {
    const last = await this.#client.getLastStreamMessage<Partial<PositionRecordedData> | null>(
      this.streamName,
      signal === undefined ? { primary: true } : { primary: true, signal },
    );
    checkRecordedConsumerGroup(this.streamName, recordedConsumerGroup(last?.metadata), this.#consumerGroup);
    this.#version = last === null ? -1 : last.position;
    this.#conflict = undefined;
    const position = last?.data?.position;
    return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : null;
  }

  /**
   * Record `position` (see {@link recordPosition}). After a PositionConflictError every further
   * record fails with it too, so a consumer that found a twin never moves the twin's position
   * (not even when it stops).
   */
  async put(position: number): Promise<void> {
    if (this.#conflict !== undefined) throw this.#conflict;
    const options: RecordPositionOptions = { consumerGroup: this.#consumerGroup };
    if (this.#version !== undefined) options.expectedVersion = this.#version;
    // A write that fails may still have committed (a lost connection): until one succeeds, the
    // version is unknown, and the next record is written without the check rather than conflict
    // with this one.
    this.#version = undefined;
    try {
      this.#version = await recordPosition(this.#client, this.streamName, position, options);
    } catch (error) {
      if (isPositionConflictError(error)) this.#conflict = error;
      throw error;
    }
  }
}
