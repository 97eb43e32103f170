/**
 * Position records as Eventide writes them (`Consumer::Postgres::PositionStore`): the record's type
 * and data, and the write that checks the position stream's version. The consumer's PositionStore
 * (position-store.ts) records its position with `recordPosition`, which is public for tools that
 * move a consumer's position themselves.
 */
import { randomUUID } from 'node:crypto';
import { clientInternals, type MessageDbClient } from '../store/client.js';
import { ConsumerError, isDuplicateMessageIdError, isExpectedVersionError } from '../vocabulary/errors.js';
import { toSafeInteger } from '../vocabulary/message.js';
import { fromPostgresError } from '../vocabulary/postgres-error.js';
import * as sql from '../vocabulary/sql.js';
import * as validate from '../vocabulary/validate.js';
import { consumerGroupMetadata } from './group-record.js';
import type { ConsumerGroup } from '../store/read.js';
import { storedPositions } from '../store/write.js';

/** The message type of a position record. */
export const POSITION_RECORDED_TYPE = 'Recorded';

/** The data of a position record: the global position of the last message handled. */
export interface PositionRecordedData {
  position: number;
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

/** True when `error` is a `PositionConflictError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
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
 * Record a consumer's position the way Eventide does: a `Recorded` message with data `{ position }`
 * in `positionStreamName`, and no metadata except a consumer group member's group (see
 * group-record.ts). Committed without waiting for the WAL flush, so recording costs a
 * consumer one round trip and no disk wait. Consumers call this for you. Always on the primary.
 * With `expectedVersion` (the position stream's version as the caller last saw it), a record by
 * anyone else in between fails with PositionConflictError. Returns the record's stream position.
 * The id is fixed before the first try, so a retry after a lost connection that finds the id
 * already stored (or the version moved by exactly that record) has found its own committed record.
 */
export async function recordPosition(client: MessageDbClient, streamName: string, position: number, options: RecordPositionOptions = {}): Promise<number> {
  const { primary: runner, assertOpen } = clientInternals(client);
  assertOpen();
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
      if (actual > translated.expectedVersion || attempt > 1)
        throw new PositionConflictError(record.streamName, translated.expectedVersion, actual, { cause: translated });
      // Shorter than expected: records this writer made were lost (or deleted); write after what is there.
      expectedVersion = actual;
    }
  }
}
