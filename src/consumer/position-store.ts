/**
 * Where a consumer keeps its position: exactly Eventide's `Consumer::Postgres::PositionStore`, so a
 * consumer written with this package and an Eventide (Ruby) consumer can take over each other's
 * position streams.
 */
import { randomUUID } from 'node:crypto';
import type { MessageDbClient } from '../client.js';
import { isDuplicateMessageIdError } from '../errors.js';
import { fromPostgresError } from '../postgres-error.js';
import type { ConsumerGroup } from '../read.js';
import { checkRecordedConsumerGroup, consumerGroupMetadata, recordedConsumerGroup } from '../scale-out/group-record.js';
import type { Runner } from '../runner.js';
import * as sql from '../sql.js';
import { categoryTypes, entityName } from '../stream-name.js';
import * as validate from '../validate.js';

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
 * Write a position record: `Recorded` with data `{ position }`, no expected version, as Eventide
 * writes it; no metadata, except a consumer group member's group (see scale-out/group-record.ts).
 * The id is fixed before the first try, so a retry after a lost connection that finds the id
 * already stored has found its own committed record.
 */
export async function recordPosition(
  runner: Runner,
  streamName: string,
  position: number,
  signal?: AbortSignal,
  consumerGroup?: ConsumerGroup,
): Promise<void> {
  const data: PositionRecordedData = { position: validate.integer('position', position, 0) };
  const metadata = consumerGroupMetadata(validate.consumerGroup(consumerGroup) ?? undefined);
  const values = [
    randomUUID(),
    validate.text('streamName', streamName),
    POSITION_RECORDED_TYPE,
    JSON.stringify(data),
    metadata === null ? null : JSON.stringify(metadata),
  ];
  try {
    await runner.run(sql.recordPosition, values, validate.signal(signal));
  } catch (error) {
    const translated = fromPostgresError(error);
    if (isDuplicateMessageIdError(translated)) return;
    throw translated;
  }
}

/**
 * Reads and records one consumer's position in its position stream, always on the primary (a
 * client with read replicas reads them for everything else). A group member's records carry its
 * group, and reading a record of another group size fails (ConsumerGroupMismatchError).
 */
export class PositionStore {
  readonly streamName: string;
  readonly #client: MessageDbClient;
  readonly #consumerGroup: ConsumerGroup | undefined;

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
    const position = last?.data?.position;
    return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : null;
  }

  /** Record `position` (see {@link recordPosition}). */
  put(position: number): Promise<void> {
    return this.#client.recordPosition(this.streamName, position, { consumerGroup: this.#consumerGroup });
  }
}
