/**
 * Where a consumer keeps its position: exactly Eventide's `Consumer::Postgres::PositionStore`, so a
 * consumer written with this package and an Eventide (Ruby) consumer can take over each other's
 * position streams.
 */
import type { MessageStoreSession } from '../session.js';
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

/** Reads and records one consumer's position in its position stream. */
export class PositionStore {
  readonly streamName: string;
  readonly #session: MessageStoreSession;

  constructor(session: MessageStoreSession, streamName: string) {
    this.#session = session;
    this.streamName = streamName;
  }

  /**
   * The recorded position, or null when none was recorded. Eventide reads the stream's last message
   * whatever its type, and so does this.
   */
  async get(signal?: AbortSignal): Promise<number | null> {
    const last = await this.#session.getLastStreamMessage<Partial<PositionRecordedData> | null>(
      this.streamName,
      signal === undefined ? {} : { signal },
    );
    const position = last?.data?.position;
    return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : null;
  }

  /** Record `position` as a `Recorded` message with no metadata and no expected version, as Eventide does. */
  async put(position: number): Promise<void> {
    const data: PositionRecordedData = { position };
    await this.#session.writeMessage({ streamName: this.streamName, type: POSITION_RECORDED_TYPE, data });
  }
}
