/**
 * The consumer's errors: a handler that failed on a message, and a consumer used the wrong way.
 * Both are MessageDbErrors (codes `HANDLER` and `CONSUMER`); messages name the message's stream,
 * type and global position, never its data.
 */
import { MessageDbError, isMessageDbError } from '../errors.js';
import type { Message } from '../message.js';

/** A handler threw (or, in strict mode, no handler matched) while handling a message. */
export class HandlerError extends MessageDbError {
  readonly streamName: string;
  readonly messageType: string;
  readonly globalPosition: number;

  constructor(message: Message, problem: string, options?: { cause?: unknown }) {
    super(
      `${problem} on message ${message.type} at global position ${message.globalPosition} (stream ${message.streamName})`,
      'HANDLER',
      options,
    );
    this.streamName = message.streamName;
    this.messageType = message.type;
    this.globalPosition = message.globalPosition;
  }
}

/** A consumer was used in a way it does not support (started twice, iterated while handlers are set, ...). */
export class ConsumerError extends MessageDbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CONSUMER', options);
  }
}

export const isHandlerError = (error: unknown): error is HandlerError => isMessageDbError(error) && error.code === 'HANDLER';
export const isConsumerError = (error: unknown): error is ConsumerError => isMessageDbError(error) && error.code === 'CONSUMER';
