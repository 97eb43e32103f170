/**
 * Eventide's `reply` writer helper: write a message to the reply stream its metadata names.
 */
import { InvalidArgumentError } from '../vocabulary/errors.js';
import type { Metadata, NewMessage } from '../vocabulary/message.js';
import type { MessageStoreSession } from '../store/session.js';
import type { WriteOptions } from '../store/write.js';

/**
 * Write `message` to the stream named by its `metadata.replyStreamName`, with that key removed from
 * the metadata written (Eventide's `write.reply`, which clears it so the reply is not answered in
 * turn). Build the metadata with `followMetadata(command)` to carry the command's reply stream.
 * InvalidArgumentError when there is no reply stream name. Returns the reply's stream position.
 *
 * @example await writeReply(client, { type: 'Deposited', data: { amount: 10 }, metadata: followMetadata(command) })
 */
export function writeReply<Data>(session: MessageStoreSession, message: Omit<NewMessage<Data>, 'streamName'>, options?: WriteOptions): Promise<number> {
  if (typeof message !== 'object' || message === null) return Promise.reject(new InvalidArgumentError('message', 'must be a message object'));
  const replyStreamName = message.metadata?.replyStreamName;
  if (typeof replyStreamName !== 'string' || replyStreamName === '') {
    return Promise.reject(new InvalidArgumentError('message.metadata.replyStreamName', 'must name the stream to reply to (the message has none)'));
  }
  const { replyStreamName: _cleared, ...rest } = message.metadata as Metadata;
  const metadata = Object.keys(rest).length === 0 ? null : rest;
  return session.writeMessage({ ...message, streamName: replyStreamName, metadata }, options);
}
