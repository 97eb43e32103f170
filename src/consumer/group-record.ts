/**
 * The consumer group recorded with a position. A group member's position records carry its member
 * number and the group's size, so a member started with another size (or another member number)
 * than the one its position was recorded with fails instead of resuming: the recorded global
 * position only covers the streams of the old share, and resuming it would skip messages of the
 * new share's other streams.
 *
 * Eventide compatibility: the record stays Eventide's `Recorded` message with data `{ position }`;
 * the group goes in `metadata.localProperties` (`consumerGroupMember`, `consumerGroupSize`), an
 * Eventide metadata key of arbitrary name/value pairs that its position store does not read and
 * that `follow` never copies. A Ruby consumer reads such a record as it reads its own.
 */
import { ConsumerError } from '../vocabulary/errors.js';
import type { Metadata } from '../vocabulary/message.js';
import type { ConsumerGroup } from '../store/read.js';

/** The `localProperties` name of the member number in a position record's metadata. */
export const CONSUMER_GROUP_MEMBER_PROPERTY = 'consumerGroupMember';
/** The `localProperties` name of the group size in a position record's metadata. */
export const CONSUMER_GROUP_SIZE_PROPERTY = 'consumerGroupSize';

const mismatchBrand = Symbol.for('messagedb.consumerGroupMismatch');

/**
 * A position was recorded by a member of another group size (or member number) than the consumer
 * reading it was started with. Stop every member, and either start them again with the recorded
 * size, or resize on purpose: stop the group, then start every member from one common position.
 */
export class ConsumerGroupMismatchError extends ConsumerError {
  readonly positionStreamName: string;
  /** The group the position was recorded with. */
  readonly recorded: ConsumerGroup;
  /** The group the consumer was started with (undefined: not in a group). */
  readonly configured: ConsumerGroup | undefined;

  constructor(positionStreamName: string, recorded: ConsumerGroup, configured: ConsumerGroup | undefined) {
    const started = configured === undefined ? 'is not in a consumer group' : `is member ${configured.member} of a group of ${configured.size}`;
    super(
      `The position in ${positionStreamName} was recorded by member ${recorded.member} of a consumer group of ${recorded.size}, ` +
        `but this consumer ${started}: every member of a group must agree on its size`,
    );
    this.positionStreamName = positionStreamName;
    this.recorded = recorded;
    this.configured = configured;
    Object.defineProperty(this, mismatchBrand, { value: true });
  }
}

/** True when `error` is a `ConsumerGroupMismatchError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isConsumerGroupMismatchError = (error: unknown): error is ConsumerGroupMismatchError =>
  typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[mismatchBrand] === true;

/** The metadata of a position record written by `group`'s member (null outside a group: Eventide's none). */
export function consumerGroupMetadata(group: ConsumerGroup | undefined): Metadata | null {
  if (group === undefined) return null;
  return { localProperties: { [CONSUMER_GROUP_MEMBER_PROPERTY]: group.member, [CONSUMER_GROUP_SIZE_PROPERTY]: group.size } };
}

/** The group a position record's metadata names, or null (no group recorded, e.g. written by Eventide). */
export function recordedConsumerGroup(metadata: Metadata | null | undefined): ConsumerGroup | null {
  const properties = metadata?.localProperties;
  const member = properties?.[CONSUMER_GROUP_MEMBER_PROPERTY];
  const size = properties?.[CONSUMER_GROUP_SIZE_PROPERTY];
  if (!Number.isSafeInteger(member) || !Number.isSafeInteger(size)) return null;
  return { member: member as number, size: size as number };
}

/**
 * Throw ConsumerGroupMismatchError unless a record's group matches the consumer's. A record without
 * a group (none recorded yet, or written by a consumer that does not record one) passes.
 */
export function checkRecordedConsumerGroup(positionStreamName: string, recorded: ConsumerGroup | null, configured: ConsumerGroup | undefined): void {
  if (recorded === null) return;
  if (configured !== undefined && recorded.size === configured.size && recorded.member === configured.member) return;
  throw new ConsumerGroupMismatchError(positionStreamName, recorded, configured);
}
