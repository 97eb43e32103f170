/**
 * Dead letters in the console: the dead-letter streams (categories whose types include
 * `deadLetter`, found with the loose index scan and the stream-name walk, as position streams are),
 * each with its messages by state; one stream's parked messages; and, when writes are allowed, the
 * operator's decisions (replay, discard) through the library's own functions.
 */
import { discardDeadLetters, listDeadLetters, requestDeadLetterReplay } from '../consumer/dead-letter-decisions.js';
import type { DeadLetter, DeadLetterState } from '../consumer/dead-letter-stream.js';
import type { MessageDbClient } from '../store/client.js';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import { categoryTypes } from '../vocabulary/stream-name.js';
import { CATEGORY_COUNT_LIMIT, isTrue } from './console-reader.js';
import * as statements from './console-statements.js';

/** Dead-letter streams read at most per dead-letter category. */
const STREAMS_PER_CATEGORY = 500;

/** A dead-letter stream and how many of its messages are in each state. */
export interface DeadLetterStreamSummary {
  streamName: string;
  counts: Record<DeadLetterState, number>;
}

/** Every dead-letter stream with its counts by state. */
export async function deadLetterStreams(client: MessageDbClient, signal?: AbortSignal): Promise<DeadLetterStreamSummary[]> {
  const options = { readOnly: true, ...(signal === undefined ? {} : { signal }) };
  const categories = await client.query(statements.categoriesAfter(), ['', CATEGORY_COUNT_LIMIT], options);
  const summaries: DeadLetterStreamSummary[] = [];
  for (const category of categories.map((row) => String(row.category)).filter((name) => categoryTypes(name).includes('deadLetter'))) {
    const walked = await client.query(statements.categoryStreams(), [category, category, STREAMS_PER_CATEGORY, STREAMS_PER_CATEGORY * 4], options);
    for (const row of walked.filter((walkedRow) => isTrue(walkedRow.member))) {
      const streamName = String(row.stream_name);
      const counts: Record<DeadLetterState, number> = { parked: 0, 'replay requested': 0, replayed: 0, discarded: 0 };
      for (const letter of await listDeadLetters(client, streamName, signal === undefined ? {} : { signal })) counts[letter.state]++;
      summaries.push({ streamName, counts });
    }
  }
  return summaries;
}

/** The parked messages of one dead-letter stream, newest first. */
export async function deadLetters(client: MessageDbClient, streamName: string, signal?: AbortSignal): Promise<DeadLetter[]> {
  checkDeadLetterStream(streamName);
  const letters = await listDeadLetters(client, streamName, signal === undefined ? {} : { signal });
  return letters.sort((a, b) => b.globalPosition - a.globalPosition);
}

/** Replay or discard the parked messages at `globalPositions` (the originals'); returns those decided. */
export async function decideDeadLetters(
  client: MessageDbClient,
  streamName: string,
  decision: 'replay' | 'discard',
  globalPositions: unknown,
  reason: unknown,
  signal?: AbortSignal,
): Promise<number[]> {
  checkDeadLetterStream(streamName);
  if (!Array.isArray(globalPositions)) throw new InvalidArgumentError('globalPositions', 'must be an array of global positions');
  const options = signal === undefined ? {} : { signal };
  if (decision === 'replay') return requestDeadLetterReplay(client, streamName, globalPositions as number[], options);
  if (reason !== undefined && typeof reason !== 'string') throw new InvalidArgumentError('reason', 'must be a text');
  return discardDeadLetters(client, streamName, globalPositions as number[], { ...options, ...(reason === undefined ? {} : { reason }) });
}

function checkDeadLetterStream(streamName: string): void {
  const category = streamName.split('-')[0] ?? '';
  if (!categoryTypes(category).includes('deadLetter')) throw new InvalidArgumentError('streamName', `must be a dead-letter stream (got ${streamName})`);
}
