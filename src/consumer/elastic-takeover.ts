/**
 * Taking over a partition's position stream. The new holder writes the recorded position again at
 * the stream version it read: the stream's version moves, so a record by the partition's previous
 * holder (a member that was paused past its lease and has not noticed yet) fails with
 * PositionConflictError instead of landing after the new holder's. This fence record is an
 * ordinary Eventide `Recorded` message with the partition's consumer group in its metadata.
 */
import type { MessageDbClient } from '../store/client.js';
import type { ConsumerGroup } from '../store/read.js';
import { checkRecordedConsumerGroup, recordedConsumerGroup } from './group-record.js';
import { isPositionConflictError, recordPosition, type PositionRecordedData } from './position-record.js';
import { positionStreamName } from './position-store.js';

/** The identifier of partition `partition`'s position stream: as a fixed group's member `partition` started by startConsumerGroup() names it. */
export const partitionIdentifier = (identifier: string, partition: number): string => `${identifier}-${partition}`;

/**
 * Fence partition `group.member`'s position stream for its new holder: re-record its position (0
 * when none was recorded) at the version read. A record by anyone else in between is read and
 * fenced in turn. Fails with ConsumerGroupMismatchError when the stream was recorded with another
 * number of partitions.
 */
export async function fencePartition(client: MessageDbClient, category: string, identifier: string, group: ConsumerGroup, signal?: AbortSignal): Promise<void> {
  const streamName = positionStreamName(category, partitionIdentifier(identifier, group.member));
  for (let attempt = 1; ; attempt++) {
    const last = await client.getLastStreamMessage<Partial<PositionRecordedData> | null>(
      streamName,
      signal === undefined ? { primary: true } : { primary: true, signal },
    );
    checkRecordedConsumerGroup(streamName, recordedConsumerGroup(last?.metadata), group);
    const recorded = last?.data?.position;
    const position = typeof recorded === 'number' && Number.isSafeInteger(recorded) && recorded >= 0 ? recorded : 0;
    try {
      await recordPosition(client, streamName, position, { expectedVersion: last === null ? -1 : last.position, consumerGroup: group, signal });
      return;
    } catch (error) {
      if (!isPositionConflictError(error) || attempt >= 5) throw error;
    }
  }
}
