/**
 * Dead-letter streams: where a consumer parks a message whose handler kept failing, and the records
 * that say what became of it. Named like position streams (a category type of its own), so the
 * consumed category never contains them. Nothing in the stream is ever deleted: a parked message's
 * state is the fold of its records, keyed by the original's global position.
 */
import { createHash } from 'node:crypto';
import type { Message, Metadata, NewMessage } from '../vocabulary/message.js';
import { consumerStreamName } from './position-store.js';

/**
 * The dead-letter stream of a consumer of `category`, in the style of its position stream: the
 * category's entity, its types plus `deadLetter`, and the identifier as the stream id.
 *
 * @example deadLetterStreamName('account', 'worker1') // 'account:deadLetter-worker1'
 * @example deadLetterStreamName('account:command', 'worker1') // 'account:command+deadLetter-worker1'
 */
export function deadLetterStreamName(category: string, identifier?: string): string {
  return consumerStreamName(category, 'deadLetter', identifier);
}

/** The types of the decision records in a dead-letter stream (a parked copy keeps its own type). */
export const DEAD_LETTER_RECORD_TYPES = {
  /** An operator asked the running consumer to replay the message. */
  replayRequested: 'ReplayRequested',
  /** The consumer's handlers handled the message again. */
  replayed: 'Replayed',
  /** A replay failed: the message is parked again. */
  replayFailed: 'ReplayFailed',
  /** An operator decided the message is not to be handled. */
  discarded: 'Discarded',
} as const;

/** Where a parked message is: waiting (`parked`, `replay requested`), or decided (`replayed`, `discarded`). */
export type DeadLetterState = 'parked' | 'replay requested' | 'replayed' | 'discarded';

/** What a parked copy says about the failure, under `metadata.localProperties.deadLetter`. */
export interface DeadLetterFailure {
  /** The handler's error (the HandlerError's cause when there is one): name, message and code only. */
  error: { name: string; message: string; code?: string };
  /** Tries made before parking. */
  attempts: number;
  /** The consumer that parked it. */
  consumer: { category: string; identifier?: string };
  /** When it was parked (ISO 8601, UTC). */
  time: string;
  /** The original's id and time, which the copy cannot keep as its own. */
  messageId: string;
  messageTime: string;
  /** The original's own causation metadata, which the copy's causation replaces. */
  causation?: Pick<Metadata, 'causationMessageStreamName' | 'causationMessagePosition' | 'causationMessageGlobalPosition'>;
}

/** The data of a decision record: which parked message (the original's global position) it is about. */
export interface DeadLetterDecisionData {
  globalPosition: number;
  /** Why it was discarded, or the error of a failed replay. */
  reason?: string;
}

/** One parked message with its state, as listed for operators. */
export interface DeadLetter {
  /** The original's global position: the key of everything about it. */
  globalPosition: number;
  streamName: string;
  /** The original's position in its stream. */
  position: number;
  type: string;
  state: DeadLetterState;
  /** Copies parked (more than 1 when it failed again after a replay or after a crash re-delivered it). */
  copies: number;
  parkedAt: Date;
  failure: DeadLetterFailure;
  /** When the current state began (parkedAt while parked). */
  stateSince: Date;
  /** The reason given with a discard, or the error of the last failed replay. */
  reason?: string;
  /** The position of its newest parked copy in the dead-letter stream. */
  deadLetterPosition: number;
  /** The original, as handlers receive it (id, stream, positions, metadata and time restored). */
  message: Message;
}

const CAUSATION_KEYS = ['causationMessageStreamName', 'causationMessagePosition', 'causationMessageGlobalPosition'] as const;

/** Credentials in a URL (`scheme://user:password@`) are cut from error texts before they are stored. */
const redactCredentials = (text: string): string => text.replace(/(\w+:\/\/[^\s/:@]*):[^\s/@]*@/g, '$1:***@').slice(0, 2000);

/** The error to record: the HandlerError's cause when there is one, as name, message and code. */
export function failureError(error: unknown): DeadLetterFailure['error'] {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (!(cause instanceof Error)) return { name: typeof cause, message: redactCredentials(String(cause)) };
  const code = (cause as { code?: unknown }).code;
  return { name: cause.name, message: redactCredentials(cause.message), ...(typeof code === 'string' ? { code } : {}) };
}

/**
 * The id of the `copy`-th parked copy (0-based) of the message at `globalPosition`: fixed, so a
 * second write of the same copy (a retry, or a crashed run re-delivering the message) is refused
 * as a duplicate instead of parking it twice.
 */
export function parkedCopyId(streamName: string, globalPosition: number, copy: number): string {
  const hex = createHash('md5').update(`${streamName}\u0000${globalPosition}\u0000${copy}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The parked copy of `message`: its type, data and metadata, with the original's causation and the failure. */
export function parkedCopy(
  deadLetterStream: string,
  message: Message,
  failure: Omit<DeadLetterFailure, 'messageId' | 'messageTime' | 'causation'>,
  copy: number,
): NewMessage & { id: string } {
  const original = message.metadata ?? {};
  const causation: DeadLetterFailure['causation'] = {};
  for (const key of CAUSATION_KEYS) if (original[key] !== undefined) (causation as Record<string, unknown>)[key] = original[key];
  const deadLetter: DeadLetterFailure = {
    ...failure,
    messageId: message.id,
    messageTime: message.time.toISOString(),
    ...(Object.keys(causation).length > 0 ? { causation } : {}),
  };
  return {
    id: parkedCopyId(deadLetterStream, message.globalPosition, copy),
    streamName: deadLetterStream,
    type: message.type,
    data: message.data,
    metadata: {
      ...original,
      causationMessageStreamName: message.streamName,
      causationMessagePosition: message.position,
      causationMessageGlobalPosition: message.globalPosition,
      localProperties: { ...original.localProperties, deadLetter },
    },
  };
}

/** The failure a record carries if it is a parked copy, else undefined. */
function parkedFailure(record: Message): DeadLetterFailure | undefined {
  const failure = record.metadata?.localProperties?.deadLetter as DeadLetterFailure | undefined;
  return typeof failure === 'object' && failure !== null && typeof record.metadata?.causationMessageGlobalPosition === 'number' ? failure : undefined;
}

/** The original message a parked copy was made from. */
function originalOf(record: Message, failure: DeadLetterFailure): Message {
  const { localProperties, ...metadata } = record.metadata ?? {};
  const { deadLetter: _, ...ownLocal } = localProperties ?? {};
  for (const key of CAUSATION_KEYS) delete metadata[key];
  Object.assign(metadata, failure.causation);
  if (Object.keys(ownLocal).length > 0) metadata.localProperties = ownLocal;
  return {
    id: failure.messageId,
    streamName: String(record.metadata?.causationMessageStreamName),
    type: record.type,
    position: Number(record.metadata?.causationMessagePosition),
    globalPosition: Number(record.metadata?.causationMessageGlobalPosition),
    data: record.data,
    // Eventide writes empty metadata as NULL, and so it is read back.
    metadata: Object.keys(metadata).length === 0 ? null : metadata,
    time: new Date(failure.messageTime),
  };
}

/** The state of every parked message of one dead-letter stream, folded record by record in stream order. */
export class DeadLetterFold {
  readonly #letters = new Map<number, DeadLetter>();
  /** The stream position of the last record folded (-1: none). */
  version = -1;

  /** Fold `record`; returns the parked message it concerned, if any. */
  add(record: Message): DeadLetter | undefined {
    this.version = record.position;
    const failure = parkedFailure(record);
    if (failure !== undefined) {
      const message = originalOf(record, failure);
      const earlier = this.#letters.get(message.globalPosition);
      const letter: DeadLetter = {
        globalPosition: message.globalPosition,
        streamName: message.streamName,
        position: message.position,
        type: message.type,
        state: 'parked',
        copies: (earlier?.copies ?? 0) + 1,
        parkedAt: new Date(failure.time),
        failure,
        stateSince: new Date(failure.time),
        deadLetterPosition: record.position,
        message,
      };
      this.#letters.set(message.globalPosition, letter);
      return letter;
    }
    const data = record.data as Partial<DeadLetterDecisionData> | null;
    const letter = typeof data?.globalPosition === 'number' ? this.#letters.get(data.globalPosition) : undefined;
    if (letter === undefined) return undefined;
    const state = decisionState(record.type, letter.state);
    if (state === undefined) return undefined;
    letter.state = state;
    letter.stateSince = record.time;
    if (typeof data?.reason === 'string') letter.reason = data.reason;
    return letter;
  }

  get(globalPosition: number): DeadLetter | undefined {
    return this.#letters.get(globalPosition);
  }

  /** Every parked message, by the original's global position. */
  all(): DeadLetter[] {
    return [...this.#letters.values()].sort((a, b) => a.globalPosition - b.globalPosition);
  }

  /** Counts by state: waiting is parked plus replay requested. */
  counts(): { parked: number; replayed: number; discarded: number; waiting: number } {
    const counts = { parked: 0, replayed: 0, discarded: 0, waiting: 0 };
    for (const letter of this.#letters.values()) {
      counts.parked++;
      if (letter.state === 'replayed') counts.replayed++;
      else if (letter.state === 'discarded') counts.discarded++;
      else counts.waiting++;
    }
    return counts;
  }
}

/** The state a decision record leads to from `current`; undefined when it changes nothing (a decided message stays decided). */
function decisionState(type: string, current: DeadLetterState): DeadLetterState | undefined {
  // The handlers ran: that is so even when a discard was recorded while they did.
  if (type === DEAD_LETTER_RECORD_TYPES.replayed) return current === 'replayed' ? undefined : 'replayed';
  const waiting = current === 'parked' || current === 'replay requested';
  if (!waiting) return undefined;
  switch (type) {
    case DEAD_LETTER_RECORD_TYPES.replayRequested:
      return 'replay requested';
    case DEAD_LETTER_RECORD_TYPES.replayFailed:
      return 'parked';
    case DEAD_LETTER_RECORD_TYPES.discarded:
      return 'discarded';
    default:
      return undefined;
  }
}
