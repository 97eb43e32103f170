/**
 * Where a consumer keeps its position: exactly Eventide's `Consumer::Postgres::PositionStore`, so a
 * consumer written with this package and an Eventide (Ruby) consumer can take over each other's
 * position streams.
 */
import { randomUUID } from 'node:crypto';
import type { MessageDbClient } from '../store/client.js';
import { isDuplicateMessageIdError, isExpectedVersionError } from '../vocabulary/errors.js';
import { toSafeInteger } from '../vocabulary/message.js';
import { fromPostgresError } from '../vocabulary/postgres-error.js';
import type { ConsumerGroup } from '../store/read.js';
import { checkRecordedConsumerGroup, consumerGroupMetadata, recordedConsumerGroup } from '../scale-out/group-record.js';
import type { Runner } from '../engine/runner.js';
import * as sql from '../vocabulary/sql.js';
import { categoryTypes, entityName } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';
import { storedPositions } from '../store/write.js';
import { ConsumerError } from './consumer-errors.js';

/** The message type of a position record. */
export const POSITION_RECORDED_TYPE = 'Recorded';

/** The data of a position record: the global position of the last message handled. */
export interface PositionRecordedData {
  position: number;
}

/**
 * The position stream of a consumer of `category` (Eventide's
 * `Consumer::Postgres::PositionStore::StreamName`): the category's entity, its types plus
 * `position` (added once), and the identifier as the stream id.
 *
 * @example positionStreamName('account', 'worker-1') // 'account:position-worker-1'
 * @example positionStreamName('account:command', 'x') // 'account:command+position-x'
 */
export function positionStreamName(category: string, identifier?: string): string {
  validate.categoryName(category);
  const types = categoryTypes(category);
  if (!types.includes('position')) types.push('position');
  const name = `${entityName(category)}:${types.join('+')}`;
  return identifier === undefined ? name : `${name}-${validate.text('identifier', identifier)}`;
}

/**
 * Another writer recorded positions in a consumer's position stream while the consumer ran: in
 * practice a second consumer started with the same category and identifier, so both would handle
 * every message and each would move the other's position. The consumer stops with this error.
 */
export class PositionConflictError extends ConsumerError {
  readonly positionStreamName: string;
  /** The stream version this consumer last read or wrote. */
  readonly expectedVersion: number;
  /** The stream's version when this consumer came to write. */
  readonly streamVersion: number;

  constructor(positionStreamName: string, expectedVersion: number, streamVersion: number, options?: { cause?: unknown }) {
    super(
      `Another consumer is recording positions in ${positionStreamName} (version ${streamVersion}; this consumer last saw ${expectedVersion}): ` +
        'two consumers with one category and identifier would each handle every message. Give each its own identifier, or run them as a consumer group',
      options,
    );
    this.positionStreamName = positionStreamName;
    this.expectedVersion = expectedVersion;
    this.streamVersion = streamVersion;
    Object.defineProperty(this, conflictBrand, { value: true });
  }
}

const conflictBrand = Symbol.for('messagedb.positionConflict');

export const isPositionConflictError = (error: unknown): error is PositionConflictError =>
  typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[conflictBrand] === true;

/** `recordPosition` options. */
export interface RecordPositionOptions {
  signal?: AbortSignal;
  consumerGroup?: ConsumerGroup;
  /**
   * The position stream's version as this writer last saw it (-1: empty). A record by anyone else
   * since then fails with PositionConflictError; a stream found shorter (records lost to a server
   * crash, since they are committed without waiting for the flush) is written at its actual version.
   */
  expectedVersion?: number;
}

/**
 * Write a position record: `Recorded` with data `{ position }`, as Eventide writes it; no metadata,
 * except a consumer group member's group (see scale-out/group-record.ts). Returns the record's
 * stream position. The id is fixed before the first try, so a retry after a lost connection that
 * finds the id already stored (or the version moved by exactly that record) has found its own
 * committed record.
 */
export async function recordPosition(runner: Runner, streamName: string, position: number, options: RecordPositionOptions = {}): Promise<number> {
  const data = JSON.stringify({ position: validate.integer('position', position, 0) } satisfies PositionRecordedData);
  const metadata = consumerGroupMetadata(validate.consumerGroup(options.consumerGroup) ?? undefined);
  const metadataText = metadata === null ? null : JSON.stringify(metadata);
  const signal = validate.signal(options.signal);
  let expectedVersion = options.expectedVersion === undefined ? null : validate.expectedVersion(options.expectedVersion);
  const record = { id: randomUUID(), streamName: validate.text('streamName', streamName), type: POSITION_RECORDED_TYPE, data };
  const values = (): unknown[] => [record.id, record.streamName, record.type, data, metadataText, expectedVersion];
  for (let attempt = 1; ; attempt++) {
    try {
      const rows = await runner.run(sql.recordPosition, values(), signal);
      return toSafeInteger(rows[0]?.[1], 'position');
    } catch (error) {
      const translated = fromPostgresError(error);
      if (!isDuplicateMessageIdError(translated) && !isExpectedVersionError(translated)) throw translated;
      // A write whose commit was acknowledged on a lost connection, then retried: it is stored.
      const [stored] = (await storedPositions(runner, [record], signal)) ?? [];
      if (stored !== undefined) return stored;
      if (!isExpectedVersionError(translated)) throw translated;
      const actual = translated.streamVersion;
      if (actual > translated.expectedVersion || attempt > 1) throw new PositionConflictError(record.streamName, translated.expectedVersion, actual, { cause: translated });
      // Shorter than expected: records this writer made were lost (or deleted); write after what is there.
      expectedVersion = actual;
    }
  }
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
      this.#version = await this.#client.recordPosition(this.streamName, position, options);
    } catch (error) {
      if (isPositionConflictError(error)) this.#conflict = error;
      throw error;
    }
  }
}
