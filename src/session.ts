/**
 * The write and read methods, shared by the client and its transaction handles so both have the
 * same shape: an application can write its message in the same transaction as its own rows.
 */
import type { Message, NewMessage } from './message.js';
import * as read from './read.js';
import type {
  GetCategoryMessagesOptions,
  GetLastStreamMessageOptions,
  GetStreamMessagesOptions,
  ReadContext,
  ReadOptions,
} from './read.js';
import type { Runner } from './runner.js';
import * as write from './write.js';
import type { WriteMessageInput, WriteMessagesOptions, WriteOptions } from './write.js';

/** Writes and reads against Message DB; the client, or a transaction on one of its connections. */
export class MessageStoreSession {
  readonly #context: ReadContext;

  /** @internal */
  constructor(runner: Runner, allowCondition: boolean) {
    this.#context = { runner, allowCondition };
  }

  /**
   * Write one message (`write_message`); returns its stream position.
   *
   * @example const position = await client.writeMessage({ streamName: 'account-1', type: 'Deposited', data: { amount: 10 } })
   */
  writeMessage<Data>(message: WriteMessageInput<Data>, options?: WriteOptions): Promise<number> {
    return write.writeMessage(this.#context.runner, message, options);
  }

  /** Write messages atomically in one round trip; returns their stream positions. */
  writeMessages(messages: readonly NewMessage[], options?: WriteMessagesOptions): Promise<number[]> {
    return write.writeMessages(this.#context.runner, messages, options);
  }

  /** One batch of a stream's messages from `position` (`get_stream_messages`). */
  getStreamMessages<Data = unknown>(streamName: string, options?: GetStreamMessagesOptions): Promise<Message<Data>[]> {
    return read.getStreamMessages<Data>(this.#context, streamName, options);
  }

  /** One batch of a category's messages from global `position` (`get_category_messages`). */
  getCategoryMessages<Data = unknown>(category: string, options?: GetCategoryMessagesOptions): Promise<Message<Data>[]> {
    return read.getCategoryMessages<Data>(this.#context, category, options);
  }

  /** The stream's last message, optionally of one type, or null (`get_last_stream_message`). */
  getLastStreamMessage<Data = unknown>(streamName: string, options?: GetLastStreamMessageOptions): Promise<Message<Data> | null> {
    return read.getLastStreamMessage<Data>(this.#context, streamName, options);
  }

  /** The stream's version, or -1 when it is empty, ready to pass as `expectedVersion`. */
  streamVersion(streamName: string, options?: ReadOptions): Promise<number> {
    return read.streamVersion(this.#context, streamName, options);
  }

  /** The global position of the category's newest message, or 0. */
  categoryHead(category: string, options?: ReadOptions): Promise<number> {
    return read.categoryHead(this.#context, category, options);
  }

  /** Every message of a stream, fetched a batch at a time. */
  readStream<Data = unknown>(streamName: string, options?: GetStreamMessagesOptions): AsyncGenerator<Message<Data>, void, undefined> {
    return read.readStream<Data>(this.#context, streamName, options);
  }

  /** Every message of a category, fetched a batch at a time. */
  readCategory<Data = unknown>(category: string, options?: GetCategoryMessagesOptions): AsyncGenerator<Message<Data>, void, undefined> {
    return read.readCategory<Data>(this.#context, category, options);
  }
}
