/**
 * Consumer groups: each member reads only its share of a category's streams, chosen by the
 * server's hash of the cardinal id (`get_category_messages`' consumer group filter).
 */
import { InvalidArgumentError } from '../vocabulary/errors.js';
import type { ConsumerGroup } from '../store/read.js';
import { consumerGroupMember } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';

/**
 * Check a consumer's group settings before anything runs. A group member needs an identifier, as
 * in Eventide: members without one would share one position stream and overwrite each other's
 * positions, so each would skip messages the others had not reached.
 */
export function checkConsumerGroup(group: unknown, identifier: string | undefined): ConsumerGroup | null {
  const checked = validate.consumerGroup(group);
  if (checked !== null && identifier === undefined) {
    throw new InvalidArgumentError('identifier', 'is required for a consumer group member (give each member its own, e.g. `worker-0`), as Eventide requires');
  }
  return checked;
}

/** True when `streamName` belongs to `group`'s member (the server's filter, computed locally). */
export function isConsumerGroupStream(streamName: string, group: ConsumerGroup): boolean {
  return consumerGroupMember(streamName, group.size) === group.member;
}
