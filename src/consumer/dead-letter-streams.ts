/**
 * Where a consumer's parked messages are. A plain consumer parks in one dead-letter stream
 * (`account:deadLetter-worker1`); an elastic group's partitions each park in their own
 * (`account:deadLetter-balances-3` for partition 3), owned like the partition's position stream
 * by the member that holds the partition. The partitions are found without reading the category:
 * the group's size from partition 0's position record, then one probe of the stream index for
 * each partition's dead-letter stream.
 */
import type { MessageDbClient } from '../store/client.js';
import * as validate from '../vocabulary/validate.js';
import { deadLetterStreamName } from './dead-letter-stream.js';
import { partitionStreamVersionsSql } from './elastic-sql.js';
import { partitionIdentifier } from './elastic-takeover.js';
import { recordedConsumerGroup } from './group-record.js';
import { positionStreamName } from './position-store.js';

/** One dead-letter stream of a consumer. */
export interface ConsumerDeadLetterStream {
  streamName: string;
  /** The elastic group's partition that parks here, or null for a plain consumer's stream. */
  partition: number | null;
  /** The stream's version (its last record's position). */
  version: number;
}

/** The partitions an elastic group of `category` and `identifier` was run with, from partition 0's position record (null: never run). */
export async function elasticPartitionCount(client: MessageDbClient, category: string, identifier: string, signal?: AbortSignal): Promise<number | null> {
  const streamName = positionStreamName(category, partitionIdentifier(identifier, 0));
  const last = await client.getLastStreamMessage(streamName, signal === undefined ? { primary: true } : { primary: true, signal });
  const group = recordedConsumerGroup(last?.metadata);
  return group === null || group.member !== 0 ? null : group.size;
}

/** The versions of the dead-letter streams of partitions 0..`partitions`-1 that have any messages, by partition. */
export async function partitionDeadLetterVersions(
  client: MessageDbClient,
  category: string,
  identifier: string,
  partitions: number,
  signal?: AbortSignal,
): Promise<Map<number, number>> {
  const rows = await client.query(partitionStreamVersionsSql, [deadLetterStreamName(category, identifier), partitions], {
    readOnly: true,
    ...(signal === undefined ? {} : { signal }),
  });
  return new Map(rows.map((row) => [Number(row.partition), Number(row.version)]));
}

/**
 * The dead-letter streams that hold anything of the consumer of `category` with `identifier`: its
 * own (`deadLetterStreamName(category, identifier)`), and, for an elastic group, each partition's
 * (`deadLetterStreamName(category, identifier + '-' + partition)`), in partition order. Empty when
 * nothing was ever parked.
 *
 * @example
 * for (const { streamName, partition } of await findDeadLetterStreams(client, 'account', 'balances')) {
 *   console.log(partition, await listDeadLetters(client, streamName))
 * }
 */
export async function findDeadLetterStreams(
  client: MessageDbClient,
  category: string,
  identifier: string,
  options: { signal?: AbortSignal } = {},
): Promise<ConsumerDeadLetterStream[]> {
  const own = deadLetterStreamName(category, identifier);
  const signal = validate.signal(options.signal);
  const streams: ConsumerDeadLetterStream[] = [];
  const version = await client.streamVersion(own, signal === undefined ? { primary: true } : { primary: true, signal });
  if (version >= 0) streams.push({ streamName: own, partition: null, version });
  const partitions = await elasticPartitionCount(client, category, identifier, signal);
  if (partitions === null) return streams;
  for (const [partition, partitionVersion] of await partitionDeadLetterVersions(client, category, identifier, partitions, signal)) {
    streams.push({ streamName: deadLetterStreamName(category, partitionIdentifier(identifier, partition)), partition, version: partitionVersion });
  }
  return streams;
}
