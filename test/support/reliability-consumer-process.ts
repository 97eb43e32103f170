/**
 * A consumer group member in a child process, for the process-crash suite: one consumer per
 * category, all on one client. It prints `handled <id> <streamName> <position> <globalPosition>`
 * for every message it handles (awaited until the line is in the pipe, so it is out before the
 * handler returns and the position can be recorded; a full pipe makes the handler wait, where
 * `writeSync` failed with EAGAIN), `ready` once every consumer started, and `stopped` after SIGTERM
 * stopped them cleanly.
 *
 * Environment: MEMBER_URL, MEMBER_CATEGORIES (comma-separated), MEMBER_INDEX, MEMBER_GROUP_SIZE,
 * MEMBER_CONCURRENCY, MEMBER_BATCH_SIZE, MEMBER_POSITION_UPDATE_INTERVAL.
 */
import { Consumer, MessageDbClient } from '../../src/index.ts';
import { printLine } from './consumer-support.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

// SIGTERM may come while this member is still starting (restarted just before the suite ends): it
// must still stop cleanly, not die of the signal's default action.
let consumers: Consumer[] = [];
let stopRequested = false;
process.on('SIGTERM', () => {
  stopRequested = true;
  void Promise.all(consumers.map((consumer) => consumer.stop()));
});

const retry = { initialDelayMs: 20, maxDelayMs: 500 };
const client = await MessageDbClient.connect({ connectionString: env('MEMBER_URL'), maxPoolSize: 4, retry });
const member = Number(env('MEMBER_INDEX'));
let handled = 0;
consumers = env('MEMBER_CATEGORIES')
  .split(',')
  .map((category) =>
    new Consumer(client, {
      category,
      identifier: `member-${member}`,
      consumerGroup: { member, size: Number(env('MEMBER_GROUP_SIZE')) },
      concurrency: Number(env('MEMBER_CONCURRENCY')),
      batchSize: Number(env('MEMBER_BATCH_SIZE')),
      positionUpdateInterval: Number(env('MEMBER_POSITION_UPDATE_INTERVAL')),
      pollIntervalMs: 50,
      retry,
    }).onAny(async (message) => {
      // Yield now and then, so a SIGKILL can land between a message and its position record.
      if (++handled % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      await printLine(`handled ${message.id} ${message.streamName} ${message.position} ${message.globalPosition}\n`);
    }),
  );
const running = consumers.map((consumer) => consumer.start());
if (stopRequested) void Promise.all(consumers.map((consumer) => consumer.stop()));
await Promise.all([printLine('ready\n'), ...running]);
await client.close();
await printLine('stopped\n');
