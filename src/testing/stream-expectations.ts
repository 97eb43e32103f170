/**
 * Reading a test like the domain: the messages a test starts from (`given`), what was written
 * (`written`), and expectations that, when they fail, show what the stream holds. Failures are
 * node:assert's AssertionError, which node:test, vitest and jest all report with its message.
 */
import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { InvalidArgumentError, isCategory, type Message, type MessageStoreSession, type Metadata, type NewMessage } from '../index.js';

/** A message to start a test from: a message without its stream name (`given` names the stream). */
export type GivenMessage<Data = unknown> = Omit<NewMessage<Data>, 'streamName'>;

/** What `expectWritten` looks for: a type, and when given, the exact data and some metadata fields. */
export interface ExpectedMessage {
  type: string;
  /** The message's data must equal this (deep, strict; as read back from the store). */
  data?: unknown;
  /** Each field given must equal the message's (deep, strict); fields not given are not compared. */
  metadata?: Metadata;
}

/**
 * Write the messages a test starts from to `streamName`, atomically, and return them as stored
 * (with positions, ids and time), ready to hand to a handler.
 *
 * @example
 * const opened = await given(client, 'account-1', { type: 'Opened', data: { owner: 'Ada' } })
 * const [first, second] = await given(client, 'account-2', [{ type: 'Opened', data: {} }, { type: 'Deposited', data: { amount: 5 } }])
 */
export function given<Data = unknown>(session: MessageStoreSession, streamName: string, message: GivenMessage<Data>): Promise<Message<Data>>;
export function given<Data = unknown>(session: MessageStoreSession, streamName: string, messages: readonly GivenMessage<Data>[]): Promise<Message<Data>[]>;
export async function given<Data>(
  session: MessageStoreSession,
  streamName: string,
  messages: GivenMessage<Data> | readonly GivenMessage<Data>[],
): Promise<Message<Data> | Message<Data>[]> {
  const list = Array.isArray(messages) ? (messages as readonly GivenMessage<Data>[]) : [messages as GivenMessage<Data>];
  if (list.length === 0) throw new InvalidArgumentError('messages', 'must hold at least one message');
  const positions = await session.writeMessages(list.map((message) => ({ ...message, streamName })));
  // One write to one stream: its positions follow one another.
  const stored = await session.getStreamMessages<Data>(streamName, { position: positions[0] as number, batchSize: positions.length, primary: true });
  return Array.isArray(messages) ? stored : (stored[0] as Message<Data>);
}

/**
 * The messages of a stream, or of a category when given one (`account`), in order; only those of
 * `type` when given.
 *
 * @example
 * const deposits = await written(client, 'account-1', 'Deposited')
 */
export async function written<Data = unknown>(session: MessageStoreSession, streamName: string, type?: string): Promise<Message<Data>[]> {
  if (typeof streamName !== 'string' || streamName === '') throw new InvalidArgumentError('streamName', 'must be a stream name or a category');
  const messages: Message<Data>[] = [];
  const read = isCategory(streamName) ? session.readCategory<Data>(streamName, { primary: true }) : session.readStream<Data>(streamName, { primary: true });
  for await (const message of read) if (type === undefined || message.type === type) messages.push(message);
  return messages;
}

/**
 * The first message of the stream (or category) that matches `expected`. When there is none, throws
 * an AssertionError that lists every message the stream holds.
 *
 * @example
 * const deposited = await expectWritten(client, 'account-1', { type: 'Deposited', data: { amount: 10 } })
 */
export async function expectWritten<Data = unknown>(session: MessageStoreSession, streamName: string, expected: ExpectedMessage): Promise<Message<Data>> {
  if (typeof expected !== 'object' || expected === null || typeof expected.type !== 'string') {
    throw new InvalidArgumentError('expected', 'must be { type, data?, metadata? }');
  }
  const messages = await written<Data>(session, streamName);
  const found = messages.find((message) => matches(message, expected));
  if (found !== undefined) return found;
  throw new AssertionError({
    message: `Expected ${describeExpected(expected)} in ${streamName}; ${describeMessages(messages)}`,
    actual: messages.map(summary),
    expected: expected,
    operator: 'expectWritten',
    stackStartFn: expectWritten,
  });
}

/**
 * Assert that the stream (or category) holds no message, or none of `type`; else throws an
 * AssertionError listing what it holds.
 *
 * @example
 * await expectNothingWritten(client, 'account-1', 'Withdrawn')
 */
export async function expectNothingWritten(session: MessageStoreSession, streamName: string, type?: string): Promise<void> {
  const messages = await written(session, streamName);
  const unexpected = messages.filter((message) => type === undefined || message.type === type);
  if (unexpected.length === 0) return;
  throw new AssertionError({
    message: `Expected no ${type === undefined ? 'message' : `${type} message`} in ${streamName}; ${describeMessages(messages)}`,
    actual: unexpected.map(summary),
    expected: [],
    operator: 'expectNothingWritten',
    stackStartFn: expectNothingWritten,
  });
}

function matches(message: Message, expected: ExpectedMessage): boolean {
  if (message.type !== expected.type) return false;
  if ('data' in expected && !isDeepStrictEqual(message.data, expected.data)) return false;
  if (expected.metadata === undefined) return true;
  const metadata: Metadata = message.metadata ?? {};
  return Object.entries(expected.metadata).every(([key, value]) => isDeepStrictEqual(metadata[key], value));
}

/** What an expectation compares of a message. */
function summary(message: Message): { position: number; type: string; data: unknown; metadata: Metadata | null } {
  return { position: message.position, type: message.type, data: message.data, metadata: message.metadata };
}

function describeExpected(expected: ExpectedMessage): string {
  let text = `${/^[aeiou]/i.test(expected.type) ? 'an' : 'a'} ${expected.type} message`;
  if ('data' in expected) text += ` with data ${JSON.stringify(expected.data)}`;
  if (expected.metadata !== undefined) text += ` with metadata ${JSON.stringify(expected.metadata)}`;
  return text;
}

/** The stream's messages, one a line, as an expectation's failure shows them. */
export function describeMessages(messages: readonly Message[]): string {
  if (messages.length === 0) return 'it holds no messages';
  const lines = messages.map((message) => {
    const metadata = message.metadata === null ? '' : ` metadata ${JSON.stringify(message.metadata)}`;
    return `  ${message.streamName}/${message.position} (global ${message.globalPosition}) ${message.type} ${JSON.stringify(message.data)}${metadata}`;
  });
  return `it holds ${messages.length} message${messages.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}
