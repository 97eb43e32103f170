/**
 * A consumer in a child process for the dead-letter kill test. Its handler fails on the message at
 * DEAD_LETTER_POISON; with DEAD_LETTER_HANG set, `onError` prints `failing <global position>` and
 * never answers, so the parent can kill the process between the failure and the parking. Prints
 * `handled <global position>` for each message handled (awaited into the pipe), and `stopped` after
 * stopping by itself at DEAD_LETTER_STOP_AT.
 *
 * Environment: DEAD_LETTER_URL, DEAD_LETTER_CATEGORY, DEAD_LETTER_POISON, DEAD_LETTER_STOP_AT,
 * DEAD_LETTER_HANG (optional).
 */
import { Consumer, MessageDbClient } from '../../src/index.ts';
import { printLine } from './consumer-support.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const poison = Number(env('DEAD_LETTER_POISON'));
const stopAt = Number(env('DEAD_LETTER_STOP_AT'));
const hang = process.env.DEAD_LETTER_HANG !== undefined;
const client = await MessageDbClient.connect(env('DEAD_LETTER_URL'));
const consumer = new Consumer(client, {
  category: env('DEAD_LETTER_CATEGORY'),
  identifier: 'killed',
  positionUpdateInterval: 10,
  retry: { initialDelayMs: 1, maxDelayMs: 5 },
  onError: async (_error, message, attempt) => {
    await printLine(`failing ${message.globalPosition}\n`);
    if (hang) await new Promise(() => {});
    return attempt < 2 ? 'retry' : 'dead-letter';
  },
}).onAny(async (message) => {
  if (message.globalPosition === poison) throw new Error('poison');
  await printLine(`handled ${message.globalPosition}\n`);
  if (message.globalPosition === stopAt) void consumer.stop();
});
await consumer.start();
await client.close();
await printLine('stopped\n');
