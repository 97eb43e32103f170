/**
 * writeMessage and writeMessages. A write cut off by a lost connection is retried; because message
 * ids are unique, a retry that finds its id already stored as the same message (same stream, type
 * and data) has found its own committed write and returns that position instead of failing.
 */
import { randomUUID } from 'node:crypto';
import { ConnectionError, InvalidArgumentError, isConnectionError, isDuplicateMessageIdError, isExpectedVersionError } from '../vocabulary/errors.js';
import { toSafeInteger, type NewMessage } from '../vocabulary/message.js';
import type { Runner } from '../engine/runner.js';
import * as sql from '../vocabulary/sql.js';
import * as validate from '../vocabulary/validate.js';

/** Options of a single write. */
export interface WriteOptions {
  signal?: AbortSignal;
}

/** Options of a batch write. */
export interface WriteMessagesOptions extends WriteOptions {
  /** Version the stream must be at before the first message; only when every message goes to one stream. */
  expectedVersion?: number | null;
}

/** A single write's input: a message plus an optional expected version. */
export interface WriteMessageInput<Data = unknown> extends NewMessage<Data> {
  /** -1: the stream must be empty; N: its version must be N; omitted or null: no check. */
  expectedVersion?: number | null;
}

/** One message of a prepared write: checked, its data and metadata already JSON text. */
export interface PreparedMessage {
  id: string;
  idGiven: boolean;
  streamName: string;
  type: string;
  data: string | null;
  metadata: string | null;
}

/** A write checked and serialised before any SQL, and before telemetry adds a traceparent to its metadata. */
export interface PreparedWrite {
  messages: PreparedMessage[];
  expectedVersion: number | null;
  signal: AbortSignal | undefined;
}

function prepare(message: NewMessage, argument: string): PreparedMessage {
  if (typeof message !== 'object' || message === null) throw new InvalidArgumentError(argument, 'must be a message object');
  const idGiven = message.id !== undefined;
  const id = idGiven ? validate.uuid(message.id, `${argument}.id`) : randomUUID();
  const streamName = validate.streamNameForWrite(message.streamName, `${argument}.streamName`);
  const type = validate.text(`${argument}.type`, message.type);
  const data = validate.json(`${argument}.data`, message.data);
  const metadata = validate.metadata(message.metadata, `${argument}.metadata`);
  const correlation = validate.correlationStreamName(message.metadata, metadata, `${argument}.metadata`);
  validate.categoryIndexEntry(streamName, correlation, argument);
  return { id, idGiven, streamName, type, data, metadata };
}

/** Check and serialise a single write, throwing InvalidArgumentError before any SQL. */
export function prepareMessageWrite(input: WriteMessageInput, options: WriteOptions = {}): PreparedWrite {
  const message = prepare(input, 'message');
  return { messages: [message], expectedVersion: validate.expectedVersion(input.expectedVersion), signal: validate.signal(options.signal) };
}

/** Check and serialise a batch write, throwing InvalidArgumentError before any SQL. */
export function prepareMessagesWrite(messages: readonly NewMessage[], options: WriteMessagesOptions = {}): PreparedWrite {
  if (!Array.isArray(messages) || messages.length === 0) throw new InvalidArgumentError('messages', 'must be a non-empty array');
  const prepared = messages.map((message, index) => prepare(message, `messages[${index}]`));
  const expectedVersion = validate.expectedVersion(options.expectedVersion);
  const first = prepared[0] as PreparedMessage;
  if (expectedVersion !== null && prepared.some((m) => m.streamName !== first.streamName)) {
    throw new InvalidArgumentError('expectedVersion', 'needs every message to go to one stream');
  }
  const ids = new Set(prepared.map((m) => m.id));
  if (ids.size !== prepared.length) throw new InvalidArgumentError('messages', 'must not repeat a message id');
  return { messages: prepared, expectedVersion, signal: validate.signal(options.signal) };
}

/** Run a prepared write; returns the stream positions of its messages. */
export function writePreparedWrite(runner: Runner, prepared: PreparedWrite): Promise<number[]> {
  return writePrepared(runner, prepared.messages, prepared.expectedVersion, prepared.signal);
}

/** What identifies a message as written: its id, where it went, and what it said. */
export type WrittenMessage = Pick<PreparedMessage, 'id' | 'streamName' | 'type' | 'data'>;

/**
 * After a duplicate-id error (or an expected-version error on a retried write): the positions of
 * these messages if every one of them is already stored as itself, else undefined.
 */
export async function storedPositions(runner: Runner, messages: readonly WrittenMessage[], signal?: AbortSignal): Promise<number[] | undefined> {
  const rows = await runner.run(
    sql.findMessagesById,
    [messages.map((m) => m.id), messages.map((m) => m.streamName), messages.map((m) => m.type), messages.map((m) => m.data)],
    signal,
  );
  const found = new Map(rows.map((row) => [row[0] as string, row]));
  const positions: number[] = [];
  for (const message of messages) {
    const row = found.get(message.id);
    if (row === undefined || !(row[2] === true || row[2] === 't')) return undefined;
    positions.push(toSafeInteger(row[1], 'position'));
  }
  return positions;
}

async function writePrepared(runner: Runner, messages: PreparedMessage[], expectedVersion: number | null, signal: AbortSignal | undefined): Promise<number[]> {
  const attempts = { count: 0 };
  try {
    if (messages.length === 1) {
      const [m] = messages as [PreparedMessage];
      const rows = await runner.run(sql.writeMessage, [m.id, m.streamName, m.type, m.data, m.metadata, expectedVersion], signal, { attempts });
      return [toSafeInteger(rows[0]?.[0], 'position')];
    }
    const rows = await runner.run(
      sql.writeMessages,
      [
        messages.map((m) => m.id),
        messages.map((m) => m.streamName),
        messages.map((m) => m.type),
        messages.map((m) => m.data),
        messages.map((m) => m.metadata),
        expectedVersion,
      ],
      signal,
      { attempts },
    );
    return rows.map((row) => toSafeInteger(row[0], 'position'));
  } catch (error) {
    if (isConnectionError(error) && !runner.transactional) throw mayHaveCommitted(error, messages);
    // write_message checks the expected version before inserting, so a retried write whose first
    // try committed fails on the version, not on the id; a caller-chosen id may be a re-send.
    const mayBeStored = isDuplicateMessageIdError(error) || (isExpectedVersionError(error) && (attempts.count > 1 || messages.some((m) => m.idGiven)));
    // Inside a transaction the error has already aborted it; there is nothing to recover.
    if (!mayBeStored || runner.transactional) throw error;
    const positions = await storedPositions(runner, messages, signal);
    if (positions === undefined) throw error;
    return positions;
  }
}

/**
 * A write that failed with a lost connection may have committed all the same: the connection can be
 * lost after the server committed and before its answer arrived. The error says so and carries the
 * ids the write used, so the caller can write the same messages again with them: one already stored
 * is then found as itself, not stored twice. (Inside a transaction nothing is committed before COMMIT.)
 */
function mayHaveCommitted(error: ConnectionError, messages: readonly PreparedMessage[]): ConnectionError {
  return new ConnectionError(
    `${error.message}. The write may have committed before the connection was lost: write the same messages ` +
      'again with the ids in messageIds to store each of them exactly once',
    { cause: error.cause, messageIds: messages.map((m) => m.id) },
  );
}

/** Write one message; returns its stream position. */
export async function writeMessage(runner: Runner, input: WriteMessageInput, options: WriteOptions = {}): Promise<number> {
  const [position] = await writePreparedWrite(runner, prepareMessageWrite(input, options));
  return position as number;
}

/**
 * Write messages atomically (all or nothing) in one round trip; returns their stream positions.
 * With `expectedVersion`, every message must go to the same stream.
 */
export async function writeMessages(runner: Runner, messages: readonly NewMessage[], options: WriteMessagesOptions = {}): Promise<number[]> {
  return writePreparedWrite(runner, prepareMessagesWrite(messages, options));
}
