/**
 * A consumer's side of its dead-letter stream: parking a message whose handler kept failing,
 * noticing replay requests on its poll cycle, and replaying through its handlers. Parking and
 * replays run one at a time (a replay requested twice, or asked for in code while the loop sees
 * the request, is handled once).
 *
 * No loss: the consumer awaits the parked copy's commit before the message counts as handled, so a
 * process that dies first has not moved its position past it and handles it again. Parking is
 * idempotent per original global position: a message already waiting in the stream is not parked
 * again, and each copy's id is fixed, so a retried or repeated write of the same copy is refused.
 */
import { clientInternals, type MessageDbClient } from '../store/client.js';
import { backoffDelay, sleep } from '../engine/runner.js';
import { isConnectionError, isDuplicateMessageIdError, isPoolTimeoutError } from '../vocabulary/errors.js';
import { toSafeInteger, type Message, type NewMessage } from '../vocabulary/message.js';
import { fromPostgresError } from '../vocabulary/postgres-error.js';
import * as sql from '../vocabulary/sql.js';
import * as validate from '../vocabulary/validate.js';
import { readDeadLetterRecords } from './dead-letter-decisions.js';
import { DEAD_LETTER_RECORD_TYPES, DeadLetterFold, failureError, parkedCopy, type DeadLetter, type DeadLetterDecisionData } from './dead-letter-stream.js';

/** What `consumer.replayDeadLetters()` did. */
export interface DeadLetterReplayResult {
  /** Global positions of the originals handled again. */
  replayed: number[];
  /** Global positions whose handler failed again: they stay parked (a `ReplayFailed` record says why). */
  failed: number[];
  /**
   * An elastic consumer's: global positions parked in partitions another member holds (or no one
   * does now), for which a `ReplayRequested` record was written; the partition's holder handles
   * them on its poll cycle. Only an elastic consumer's result has it.
   */
  requested?: number[];
}

/** Counts of a dead-letter stream by state; `parked` counts every message ever parked, `waiting` those not decided. */
export interface DeadLetterCounts {
  parked: number;
  replayed: number;
  discarded: number;
  waiting: number;
}

/** How the consumer plugs in. */
export interface DeadLetterParkingConfig {
  client: MessageDbClient;
  streamName: string;
  category: string;
  identifier: string;
  retry: { initialDelayMs: number; maxDelayMs: number };
  /** The shortest time between two looks for replay requests. */
  checkIntervalMs: number;
  /** Run the consumer's handler for `message` once; throws when it fails. */
  replay(message: Message, signal: AbortSignal): Promise<void>;
  onParked(): void;
  onReplayed(): void;
  onDiscarded(): void;
  /** A replay failed, or a lost connection was retried. */
  onError(kind: 'handler' | 'connection', error: unknown): void;
}

const isTransient = (error: unknown): boolean => isConnectionError(error) || isPoolTimeoutError(error);
/**
 * Write a parked copy in one statement without waiting for the WAL flush, as position records are
 * written: the consumer records a position past the message only after this commit, and WAL is
 * flushed in order, so a server crash that lost the copy lost that position record too and the
 * message is handled again. Returns the copy's stream position, or null when it was stored already.
 */
async function writeParkedCopy(client: MessageDbClient, copy: NewMessage & { id: string }, signal: AbortSignal): Promise<number | null> {
  const { primary: runner, assertOpen } = clientInternals(client);
  assertOpen();
  const values = [copy.id, copy.streamName, copy.type, validate.json('data', copy.data), validate.metadata(copy.metadata), null];
  try {
    const rows = await runner.run(sql.recordPosition, values, signal);
    return toSafeInteger(rows[0]?.[1], 'position');
  } catch (error) {
    const translated = fromPostgresError(error);
    // The same copy is stored already: a retry whose first try committed, or another run's.
    if (isDuplicateMessageIdError(translated)) return null;
    throw translated;
  }
}

const isWaiting = (letter: DeadLetter | undefined): letter is DeadLetter => letter?.state === 'parked' || letter?.state === 'replay requested';

/** One consumer's dead-letter stream, as that consumer sees and changes it. */
export class DeadLetterParking {
  readonly #config: DeadLetterParkingConfig;
  #fold = new DeadLetterFold();
  #loaded = false;
  #lastCheck = Number.NEGATIVE_INFINITY;
  /** Parking and replays, one at a time. */
  #serial: Promise<unknown> = Promise.resolve();

  constructor(config: DeadLetterParkingConfig) {
    this.#config = config;
  }

  /** Counts as last read. */
  counts(): DeadLetterCounts {
    return this.#fold.counts();
  }

  /** Read the whole stream anew (at start). */
  async load(signal: AbortSignal): Promise<void> {
    const fold = new DeadLetterFold();
    await readDeadLetterRecords(this.#config.client, this.#config.streamName, fold, signal);
    this.#fold = fold;
    this.#loaded = true;
  }

  /**
   * Park `message` after `attempts` failed tries with `error`, unless it is waiting there already.
   * Resolves once the copy is committed; lost connections are retried until `signal` (a stop) ends
   * the wait, which leaves the message unhandled.
   */
  park(message: Message, error: unknown, attempts: number, signal: AbortSignal): Promise<void> {
    return this.#serially(async () => {
      // The fold as last read (at start, each poll that found the stream moved, and each park): one
      // round trip a parked message. A copy stored meanwhile by someone else is found by its id.
      if (!this.#loaded) await this.#persist(() => this.load(signal), signal);
      const earlier = this.#fold.get(message.globalPosition);
      if (isWaiting(earlier)) return;
      const { category, identifier, streamName } = this.#config;
      const failure = { error: failureError(error), attempts, consumer: { category, identifier }, time: new Date().toISOString() };
      const copy = parkedCopy(streamName, message, failure, (earlier as DeadLetter | undefined)?.copies ?? 0);
      const position = await this.#persist(() => writeParkedCopy(this.#config.client, copy, signal), signal);
      this.#config.onParked();
      // Folded as written (the next look reads it if this one was stored by someone else).
      if (position !== null && position === this.#fold.version + 1) {
        this.#fold.add({ ...copy, data: copy.data ?? null, metadata: copy.metadata ?? null, position, globalPosition: 0, time: new Date() });
      }
    });
  }

  /**
   * The poll cycle's look for replay requests: at most once per `checkIntervalMs`, one stream
   * version read; only when the stream moved are the new records read and requested replays run.
   * A lost connection is counted and left for the next look.
   */
  async poll(signal: AbortSignal): Promise<void> {
    const now = performance.now();
    if (now - this.#lastCheck < this.#config.checkIntervalMs) return;
    this.#lastCheck = now;
    try {
      const version = await this.#config.client.streamVersion(this.#config.streamName, { primary: true, signal });
      // Requests found at start (written while no one ran this stream) are run too.
      if (this.#loaded && version === this.#fold.version && !this.#fold.all().some((letter) => letter.state === 'replay requested')) return;
      await this.replay('requested', signal);
    } catch (error) {
      // Stopping: a replay cut short stays requested, for the next start.
      if (signal.aborted) return;
      if (!isTransient(error)) throw error;
      this.#config.onError('connection', error);
    }
  }

  /**
   * Replay parked messages through the handlers, oldest first: those asked for by `ReplayRequested`
   * records (`'requested'`), every waiting one (`'all'`), or the given global positions. Each is
   * handled once and marked `Replayed`; one whose handler fails again is marked `ReplayFailed`
   * and stays parked.
   */
  replay(selection: 'requested' | 'all' | readonly number[], signal: AbortSignal): Promise<DeadLetterReplayResult> {
    return this.#serially(async () => {
      const result: DeadLetterReplayResult = { replayed: [], failed: [] };
      await this.#refresh(signal);
      const letters =
        selection === 'requested'
          ? this.#fold.all().filter((letter) => letter.state === 'replay requested')
          : selection === 'all'
            ? this.#fold.all().filter(isWaiting)
            : selection.map((position) => this.#fold.get(position)).filter(isWaiting);
      for (const { globalPosition } of letters) {
        if (signal.aborted) break;
        // Read again: an operator may have discarded it meanwhile.
        await this.#refresh(signal);
        const letter = this.#fold.get(globalPosition);
        if (letter === undefined || !isWaiting(letter)) continue;
        let failure: unknown;
        try {
          await this.#config.replay(letter.message, signal);
        } catch (error) {
          // A handler that gave up because the consumer is stopping leaves the request for next time.
          if (signal.aborted) throw error;
          failure = error;
          this.#config.onError('handler', error);
        }
        const type = failure === undefined ? DEAD_LETTER_RECORD_TYPES.replayed : DEAD_LETTER_RECORD_TYPES.replayFailed;
        const data: DeadLetterDecisionData = { globalPosition, ...(failure === undefined ? {} : { reason: failureError(failure).message }) };
        const metadata = { localProperties: { deadLetterDecision: { time: new Date().toISOString() } } };
        await this.#persist(() => this.#config.client.writeMessage({ streamName: this.#config.streamName, type, data, metadata }, { signal }), signal);
        if (failure === undefined) {
          result.replayed.push(globalPosition);
          this.#config.onReplayed();
        } else result.failed.push(globalPosition);
      }
      await this.#refresh(signal).catch(() => {});
      return result;
    });
  }

  /** Read the records written since the last read, noting discards. */
  async #refresh(signal: AbortSignal): Promise<void> {
    if (!this.#loaded) return this.load(signal);
    const before = new Map(this.#fold.all().map((letter) => [letter.globalPosition, letter.state]));
    await readDeadLetterRecords(this.#config.client, this.#config.streamName, this.#fold, signal);
    for (const letter of this.#fold.all()) {
      if (letter.state === 'discarded' && before.get(letter.globalPosition) !== 'discarded') this.#config.onDiscarded();
    }
  }

  /** Run `step`, retrying lost connections with the consumer's backoff until `signal` fires. */
  async #persist<T>(step: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        if (signal.aborted || !isTransient(error)) throw error;
        this.#config.onError('connection', error);
        await sleep(backoffDelay(attempt, this.#config.retry), signal);
      }
    }
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#serial.then(work, work);
    this.#serial = next.catch(() => {});
    return next;
  }
}
