/**
 * Eventide's `initial` writer helper: write a message only if its stream is new.
 */
import type { MessageStoreSession } from '../store/session.js';
import type { WriteMessageInput, WriteOptions } from '../store/write.js';

/**
 * Write `message` only if its stream has no messages yet (expected version -1, Eventide's
 * `write.initial`); otherwise ExpectedVersionError. Returns the position, 0.
 *
 * @example await writeInitial(client, { streamName: 'account-1', type: 'Opened', data: { owner: 'Ada' } })
 */
export function writeInitial<Data>(
  session: MessageStoreSession,
  message: Omit<WriteMessageInput<Data>, 'expectedVersion'>,
  options?: WriteOptions,
): Promise<number> {
  return session.writeMessage({ ...message, expectedVersion: -1 }, options);
}
