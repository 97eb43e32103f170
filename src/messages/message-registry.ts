/**
 * Reading with a registry of definitions: each message of a known type comes back read through its
 * definition (upcast, validated, typed); a message of any other type is refused
 * (UnreadableMessageError, reason `unknown-type`) or passed through untyped, as the caller chooses.
 */
import type { GetCategoryMessagesOptions, GetStreamMessagesOptions } from '../store/read.js';
import type { MessageStoreSession } from '../store/session.js';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import type { Message } from '../vocabulary/message.js';
import type { MessageOf, MessageReader } from './define-message.js';
import { UnreadableMessageError } from './message-errors.js';

/** What a registry does with a message whose type none of its definitions has. */
export type UnknownMessages = 'refuse' | 'pass';

/** `messageRegistry` options. */
export interface MessageRegistryOptions<Unknown extends UnknownMessages = 'refuse'> {
  /** `refuse` (default): UnreadableMessageError; `pass`: the message as read, untyped. */
  unknown?: Unknown;
}

/** A message a registry returns: one of its definitions' typed messages, or (with `unknown: 'pass'`) an untyped one. */
export type RegistryMessage<Definitions extends readonly MessageReader[], Unknown extends UnknownMessages> =
  | MessageOf<Definitions[number]>
  | (Unknown extends 'pass' ? Message<unknown> : never);

/** The session a registry reads through: the client or a transaction. */
export type RegistrySession = Pick<MessageStoreSession, 'getStreamMessages' | 'getCategoryMessages' | 'readStream' | 'readCategory'>;

/** A set of definitions to read with; see `messageRegistry`. */
export interface MessageRegistry<Definitions extends readonly MessageReader[], Unknown extends UnknownMessages> {
  /** The registered types, e.g. for a read's `filter: { types }`. */
  readonly types: readonly string[];
  /** One stored message read through its definition. */
  read(message: Message): Promise<RegistryMessage<Definitions, Unknown>>;
  getStreamMessages(session: RegistrySession, streamName: string, options?: GetStreamMessagesOptions): Promise<RegistryMessage<Definitions, Unknown>[]>;
  getCategoryMessages(session: RegistrySession, category: string, options?: GetCategoryMessagesOptions): Promise<RegistryMessage<Definitions, Unknown>[]>;
  readStream(
    session: RegistrySession,
    streamName: string,
    options?: GetStreamMessagesOptions,
  ): AsyncGenerator<RegistryMessage<Definitions, Unknown>, void, undefined>;
  readCategory(
    session: RegistrySession,
    category: string,
    options?: GetCategoryMessagesOptions,
  ): AsyncGenerator<RegistryMessage<Definitions, Unknown>, void, undefined>;
}

/**
 * A registry of message definitions for typed reads.
 *
 * @example
 * const account = messageRegistry([Deposited, Withdrawn])
 * for await (const message of account.readStream(client, 'account-1')) {
 *   if (message.type === 'Deposited') console.log(message.data.amount)
 * }
 */
export function messageRegistry<const Definitions extends readonly MessageReader[], Unknown extends UnknownMessages = 'refuse'>(
  definitions: Definitions,
  options: MessageRegistryOptions<Unknown> = {},
): MessageRegistry<Definitions, Unknown> {
  type Result = RegistryMessage<Definitions, Unknown>;
  if (!Array.isArray(definitions)) throw new InvalidArgumentError('definitions', 'must be an array of message definitions');
  const byType = new Map<string, MessageReader>();
  for (const [index, definition] of definitions.entries()) {
    if (typeof definition?.read !== 'function' || typeof definition.type !== 'string') {
      throw new InvalidArgumentError(`definitions[${index}]`, 'must be a message definition (defineMessage)');
    }
    if (byType.has(definition.type)) throw new InvalidArgumentError(`definitions[${index}]`, `defines ${definition.type} a second time`);
    byType.set(definition.type, definition);
  }
  const unknown = options.unknown ?? 'refuse';
  if (unknown !== 'refuse' && unknown !== 'pass') throw new InvalidArgumentError('unknown', `must be 'refuse' or 'pass' (got ${String(unknown)})`);

  const read = async (message: Message): Promise<Result> => {
    const definition = byType.get(message.type);
    if (definition !== undefined) return (await definition.read(message)) as Result;
    if (unknown === 'pass') return message as Result;
    throw new UnreadableMessageError(message, undefined, 'unknown-type', `the registry has no definition of ${message.type}`);
  };
  const readAll = async (messages: readonly Message[]): Promise<Result[]> => {
    const results: Result[] = [];
    for (const message of messages) results.push(await read(message));
    return results;
  };
  async function* readEach(messages: AsyncIterable<Message>): AsyncGenerator<Result, void, undefined> {
    for await (const message of messages) yield await read(message);
  }

  return {
    types: [...byType.keys()],
    read,
    getStreamMessages: async (session, streamName, readOptions) => readAll(await session.getStreamMessages(streamName, readOptions)),
    getCategoryMessages: async (session, category, readOptions) => readAll(await session.getCategoryMessages(category, readOptions)),
    readStream: (session, streamName, readOptions) => readEach(session.readStream(streamName, readOptions)),
    readCategory: (session, category, readOptions) => readEach(session.readCategory(category, readOptions)),
  };
}
