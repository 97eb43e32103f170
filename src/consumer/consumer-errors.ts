/**
 * The consumer's errors: a handler that failed on a message (or ran past its timeout), and a
 * consumer used the wrong way.
 * Both are MessageDbErrors (codes `HANDLER` and `CONSUMER`); messages name the message's stream,
 * type and global position, never its data.
 */
import { ConsumerError, MessageDbError, isConsumerError, isMessageDbError } from '../vocabulary/errors.js';
import type { Message } from '../vocabulary/message.js';

// The store's position records fail with ConsumerErrors too, so the class lives with the other errors.
export { ConsumerError, isConsumerError };

/** A handler threw (or, in strict mode, no handler matched) while handling a message. */
export class HandlerError extends MessageDbError {
  readonly streamName: string;
  readonly messageType: string;
  readonly globalPosition: number;

  constructor(message: Message, problem: string, options?: { cause?: unknown }) {
    super(`${problem} on message ${message.type} at global position ${message.globalPosition} (stream ${message.streamName})`, 'HANDLER', options);
    this.streamName = message.streamName;
    this.messageType = message.type;
    this.globalPosition = message.globalPosition;
  }
}

/**
 * A handler ran longer than the consumer's `handlerTimeoutMs`. It goes to `onError` like any
 * handler failure; the handler's own promise is abandoned (JavaScript cannot cancel it), and its
 * `context.signal` is aborted with this error so a handler that watches the signal can end.
 */
export class HandlerTimeoutError extends HandlerError {
  readonly timeoutMs: number;

  constructor(message: Message, timeoutMs: number) {
    super(message, `Handler did not finish within handlerTimeoutMs (${timeoutMs} ms)`);
    this.timeoutMs = timeoutMs;
    Object.defineProperty(this, timeoutBrand, { value: true });
  }
}

const timeoutBrand = Symbol.for('messagedb.handlerTimeout');

/** True when `error` is a `HandlerError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isHandlerError = (error: unknown): error is HandlerError => isMessageDbError(error) && error.code === 'HANDLER';
/** True when `error` is a `HandlerTimeoutError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isHandlerTimeoutError = (error: unknown): error is HandlerTimeoutError =>
  isHandlerError(error) && (error as unknown as Record<symbol, unknown>)[timeoutBrand] === true;
