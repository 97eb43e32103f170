/**
 * A consumer in a child process, for the kill-and-resume test. It prints `handled <global
 * position>` for every message it handles (awaited until the line is in the pipe, so it is out
 * before the handler returns and the position can be recorded; a full pipe makes the handler
 * wait for the parent instead of failing), and `stopped` after a clean stop. The first time its
 * stdout pipe is full it says `stdout full` on stderr, for the test that stalls its reading.
 *
 * Environment: CONSUMER_URL, CONSUMER_CATEGORY, CONSUMER_IDENTIFIER, CONSUMER_STOP_AT (stop after
 * handling this global position; optional), CONSUMER_POSITION_UPDATE_INTERVAL (default 100).
 */
import { Consumer, MessageDbClient } from '../../src/index.ts';
import { printLine } from './consumer-support.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

let reportedFull = false;
const onQueued = (): void => {
  if (reportedFull) return;
  reportedFull = true;
  process.stderr.write('stdout full\n');
};

const client = await MessageDbClient.connect(env('CONSUMER_URL'));
const stopAt = process.env.CONSUMER_STOP_AT === undefined ? undefined : Number(process.env.CONSUMER_STOP_AT);
const consumer = new Consumer(client, {
  category: env('CONSUMER_CATEGORY'),
  identifier: env('CONSUMER_IDENTIFIER'),
  positionUpdateInterval: Number(process.env.CONSUMER_POSITION_UPDATE_INTERVAL ?? 100),
});
let handled = 0;
consumer.onAny(async (message) => {
  // Slow enough that the parent's SIGKILL lands mid-way through the category.
  if (++handled % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  await printLine(`handled ${message.globalPosition}\n`, onQueued);
  if (message.globalPosition === stopAt) void consumer.stop();
});
process.on('SIGTERM', () => void consumer.stop());
await consumer.start();
await client.close();
await printLine('stopped\n');
