/**
 * What operators do with parked messages, without a running consumer (the command and the web
 * console use these): list them with their state, ask the running consumer to replay them, discard
 * them. Every decision is a record appended to the dead-letter stream at the version just read, so
 * two decisions about one message never both apply (the second sees the first and is refused).
 */
import type { MessageDbClient } from '../store/client.js';
import { ConsumerError, InvalidArgumentError, isExpectedVersionError } from '../vocabulary/errors.js';
import * as validate from '../vocabulary/validate.js';
import { DEAD_LETTER_RECORD_TYPES, DeadLetterFold, type DeadLetter, type DeadLetterDecisionData } from './dead-letter-stream.js';

/** Options of the dead-letter functions. */
export interface DeadLetterOptions {
  signal?: AbortSignal;
}

/** `discardDeadLetters` options. */
export interface DiscardDeadLettersOptions extends DeadLetterOptions {
  /** Why, recorded with the decision. */
  reason?: string;
}

/** Which parked messages: the originals' global positions, or `'all'` that are waiting. */
export type DeadLetterSelection = readonly number[] | 'all';

/** Read the records of `streamName` after `fold.version` into `fold` (on the primary: decisions must see the latest). */
export async function readDeadLetterRecords(client: MessageDbClient, streamName: string, fold: DeadLetterFold, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const records = await client.getStreamMessages(streamName, { position: fold.version + 1, batchSize: 1000, primary: true, signal });
    for (const record of records) fold.add(record);
    if (records.length < 1000) return;
  }
}

/**
 * Every message parked in the dead-letter stream `streamName` (`deadLetterStreamName(category,
 * identifier)`), with its state, by the original's global position. Decided ones (replayed,
 * discarded) are listed too: nothing is deleted.
 */
export async function listDeadLetters(client: MessageDbClient, streamName: string, options: DeadLetterOptions = {}): Promise<DeadLetter[]> {
  const fold = new DeadLetterFold();
  await readDeadLetterRecords(client, validate.entityStreamName(streamName), fold, validate.signal(options.signal));
  return fold.all();
}

/** The selection checked: global positions as non-negative integers, no duplicates needed. */
function checkSelection(selection: DeadLetterSelection): readonly number[] | 'all' {
  if (selection === 'all') return selection;
  if (!Array.isArray(selection) || selection.length === 0) {
    throw new InvalidArgumentError('globalPositions', "must be a non-empty array of global positions, or 'all'");
  }
  return [...new Set(selection.map((position, index) => validate.integer(`globalPositions[${index}]`, position, 0)))];
}

/**
 * Append one `type` decision for each selected waiting message, at the stream version just read.
 * A message that is not waiting (or not there) is refused before anything is written; a record by
 * someone else in between makes it read again and decide anew.
 */
async function decide(
  client: MessageDbClient,
  streamName: string,
  selection: DeadLetterSelection,
  type: string,
  verb: string,
  options: DiscardDeadLettersOptions,
): Promise<number[]> {
  validate.entityStreamName(streamName);
  const selected = checkSelection(selection);
  const signal = validate.signal(options.signal);
  const reason = options.reason === undefined ? undefined : validate.text('reason', options.reason);
  const fold = new DeadLetterFold();
  for (let attempt = 1; ; attempt++) {
    await readDeadLetterRecords(client, streamName, fold, signal);
    const waiting = (letter: DeadLetter | undefined): boolean => letter?.state === 'parked' || letter?.state === 'replay requested';
    const positions =
      selected === 'all'
        ? fold
            .all()
            .filter(waiting)
            .map((letter) => letter.globalPosition)
        : selected;
    for (const position of positions) {
      const letter = fold.get(position);
      if (letter === undefined) throw new ConsumerError(`No message at global position ${position} is parked in ${streamName}`);
      if (!waiting(letter)) throw new ConsumerError(`Cannot ${verb} the message at global position ${position} in ${streamName}: it was ${letter.state}`);
    }
    // A replay already requested is not requested twice: the consumer handles it once.
    const todo = type === DEAD_LETTER_RECORD_TYPES.replayRequested ? positions.filter((position) => fold.get(position)?.state === 'parked') : positions;
    if (todo.length === 0) return [...positions];
    try {
      await client.writeMessages(
        todo.map((globalPosition) => ({
          streamName,
          type,
          data: { globalPosition, ...(reason === undefined ? {} : { reason }) } satisfies DeadLetterDecisionData,
          metadata: { localProperties: { deadLetterDecision: { time: new Date().toISOString() } } },
        })),
        { expectedVersion: fold.version, signal },
      );
      return [...positions];
    } catch (error) {
      if (!isExpectedVersionError(error) || attempt >= 10) throw error;
    }
  }
}

/**
 * Ask the consumer of this dead-letter stream to replay the selected parked messages through its
 * handlers: a `ReplayRequested` record each, which the running consumer notices on its poll cycle
 * and handles once. Returns the global positions requested (already requested ones included).
 */
export function requestDeadLetterReplay(
  client: MessageDbClient,
  streamName: string,
  selection: DeadLetterSelection,
  options: DeadLetterOptions = {},
): Promise<number[]> {
  return decide(client, streamName, selection, DEAD_LETTER_RECORD_TYPES.replayRequested, 'replay', options);
}

/** Record that the selected parked messages are not to be handled (a `Discarded` record each); returns their global positions. */
export function discardDeadLetters(
  client: MessageDbClient,
  streamName: string,
  selection: DeadLetterSelection,
  options: DiscardDeadLettersOptions = {},
): Promise<number[]> {
  return decide(client, streamName, selection, DEAD_LETTER_RECORD_TYPES.discarded, 'discard', options);
}
