/**
 * Dead letters of an elastic consumer. Each partition parks in its own dead-letter stream
 * (`account:deadLetter-balances-3`), handled like the partition's position stream by the member
 * that holds the partition, so no parked message is replayed by two live members at once. A member
 * replays the partitions it holds through their consumers; for every other partition it writes
 * `ReplayRequested` records, which that partition's holder (now, or the next one to take it)
 * handles once on its poll cycle.
 */
import type { MessageDbClient } from '../store/client.js';
import { AbortError, isConsumerError } from '../vocabulary/errors.js';
import { listDeadLetters, requestDeadLetterReplay } from './dead-letter-decisions.js';
import type { DeadLetterCounts, DeadLetterReplayResult } from './dead-letter-parking.js';
import { deadLetterStreamName } from './dead-letter-stream.js';
import { partitionDeadLetterVersions } from './dead-letter-streams.js';
import { partitionIdentifier } from './elastic-takeover.js';

/** What a partition's consumer offers for its dead letters. */
export interface PartitionDeadLetters {
  replayDeadLetters(options: { globalPositions?: readonly number[]; signal?: AbortSignal }): Promise<DeadLetterReplayResult>;
}

/** The elastic group whose dead letters are replayed, as one member sees it. */
export interface ElasticDeadLetterScope {
  client: MessageDbClient;
  category: string;
  identifier: string;
  partitions: number;
  /** The consumer of `partition` while this member holds it (and is not giving it up), else undefined. */
  held(partition: number): PartitionDeadLetters | undefined;
}

/** The counts of several dead-letter streams added up. */
export function sumDeadLetterCounts(counts: Iterable<DeadLetterCounts | undefined>): DeadLetterCounts {
  const sum: DeadLetterCounts = { parked: 0, replayed: 0, discarded: 0, waiting: 0 };
  for (const each of counts) {
    if (each === undefined) continue;
    sum.parked += each.parked;
    sum.replayed += each.replayed;
    sum.discarded += each.discarded;
    sum.waiting += each.waiting;
  }
  return sum;
}

/**
 * Replay the selected waiting messages (every one when `globalPositions` is undefined) of every
 * partition: through this member's handlers for the partitions it holds, by request for the rest.
 */
export async function replayElasticDeadLetters(
  scope: ElasticDeadLetterScope,
  globalPositions: readonly number[] | undefined,
  signal: AbortSignal | undefined,
): Promise<DeadLetterReplayResult> {
  const result: Required<DeadLetterReplayResult> = { replayed: [], failed: [], requested: [] };
  const versions = await partitionDeadLetterVersions(scope.client, scope.category, scope.identifier, scope.partitions, signal);
  for (const partition of versions.keys()) {
    if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    const consumer = scope.held(partition);
    if (consumer !== undefined) {
      try {
        const replayed = await consumer.replayDeadLetters(globalPositions === undefined ? { signal } : { globalPositions, signal });
        result.replayed.push(...replayed.replayed);
        result.failed.push(...replayed.failed);
        continue;
      } catch (error) {
        // This member lost the partition meanwhile: its next holder handles what is left, on request.
        if (signal?.aborted || !(error instanceof AbortError)) throw error;
      }
    }
    result.requested.push(...(await requestReplay(scope, partition, globalPositions, signal)));
  }
  for (const list of Object.values(result)) list.sort((a, b) => a - b);
  return result;
}

/** Ask whoever holds `partition` to replay its selected waiting messages; returns their global positions. */
async function requestReplay(
  scope: ElasticDeadLetterScope,
  partition: number,
  globalPositions: readonly number[] | undefined,
  signal: AbortSignal | undefined,
): Promise<number[]> {
  const streamName = deadLetterStreamName(scope.category, partitionIdentifier(scope.identifier, partition));
  const wanted = globalPositions === undefined ? undefined : new Set(globalPositions);
  for (let attempt = 1; ; attempt++) {
    const waiting = (await listDeadLetters(scope.client, streamName, { signal }))
      .filter((letter) => letter.state === 'parked' || letter.state === 'replay requested')
      .map((letter) => letter.globalPosition)
      .filter((position) => wanted === undefined || wanted.has(position));
    if (waiting.length === 0) return [];
    try {
      return await requestDeadLetterReplay(scope.client, streamName, waiting, { signal });
    } catch (error) {
      // Decided by someone else between the read and the request (the holder replayed it): read again.
      if (!isConsumerError(error) || attempt >= 5) throw error;
    }
  }
}
