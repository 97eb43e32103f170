/**
 * One member of an elastic consumer group in a child process, for test/reliability/elastic-group.test.ts
 * and bench/elastic.ts. For each message it prints `s <globalPosition> <streamName> <position> <time>`
 * when its handler starts and `e <globalPosition> <time>` when it ends (times in ms since the epoch,
 * fractional, from performance.timeOrigin), and `p <partitions>` each time the partitions it holds
 * change. SIGTERM stops it cleanly (`stopped` last).
 *
 * Environment: ELASTIC_URL, ELASTIC_CATEGORY, ELASTIC_IDENTIFIER, ELASTIC_PARTITIONS,
 * ELASTIC_LEASE_MS, ELASTIC_HEARTBEAT_MS, ELASTIC_POSITION_UPDATE_INTERVAL, ELASTIC_CONCURRENCY,
 * ELASTIC_HANDLER_MS (the longest a handler waits, at random; 0: no wait), ELASTIC_QUIET (print no
 * `s`/`e` lines but `h <handled> <time of the last>` every 100 ms, for the bench), ELASTIC_FIXED_MEMBER (run as member
 * N of a fixed group of ELASTIC_PARTITIONS instead, for the bench's comparison), ELASTIC_GO_SIGNAL=1
 * (print `ready` once connected and start only on SIGUSR1, so a bench starts its members at once).
 */
import { Consumer, MessageDbClient } from '../../src/index.ts';
import { printLine } from './consumer-support.ts';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const now = (): number => performance.timeOrigin + performance.now();
const handlerMs = Number(env('ELASTIC_HANDLER_MS', '0'));
const quiet = env('ELASTIC_QUIET', '') === '1';
const fixedMember = process.env.ELASTIC_FIXED_MEMBER;
const partitions = Number(env('ELASTIC_PARTITIONS', '8'));
const identifier = env('ELASTIC_IDENTIFIER');

const client = await MessageDbClient.connect({ connectionString: env('ELASTIC_URL'), maxPoolSize: 4 });
const consumer = new Consumer(client, {
  category: env('ELASTIC_CATEGORY'),
  identifier: fixedMember === undefined ? identifier : `${identifier}-${fixedMember}`,
  positionUpdateInterval: Number(env('ELASTIC_POSITION_UPDATE_INTERVAL', '100')),
  concurrency: Number(env('ELASTIC_CONCURRENCY', '1')),
  batchSize: 100,
  pollIntervalMs: 20,
  ...(fixedMember === undefined
    ? {
        elastic: {
          partitions,
          leaseTimeoutMs: Number(env('ELASTIC_LEASE_MS', '10000')),
          heartbeatIntervalMs: Number(env('ELASTIC_HEARTBEAT_MS', '1000')),
        },
      }
    : { consumerGroup: { member: Number(fixedMember), size: partitions } }),
});
let handled = 0;
let lastHandledAt = 0;
consumer.onAny(async (message) => {
  if (!quiet) await printLine(`s ${message.globalPosition} ${message.streamName} ${message.position} ${now()}\n`);
  if (handlerMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * handlerMs));
  handled++;
  lastHandledAt = now();
  if (!quiet) await printLine(`e ${message.globalPosition} ${now()}\n`);
});

// What the member holds, as its stats say, printed when it changes.
let shown = '';
const watch = setInterval(() => {
  void consumer.stats().then((stats) => {
    const held = (stats.elastic?.partitions ?? []).join(',');
    if (held !== shown && fixedMember === undefined) {
      shown = held;
      void printLine(`p ${held} ${now()}\n`);
    }
    if (quiet) void printLine(`h ${handled} ${lastHandledAt}\n`);
  });
}, 100);
process.on('SIGTERM', () => void consumer.stop());
if (env('ELASTIC_GO_SIGNAL', '') === '1') {
  const go = new Promise((resolve) => process.once('SIGUSR1', resolve));
  await printLine('ready\n');
  await go;
}
await consumer.start();
clearInterval(watch);
await client.close();
await printLine('stopped\n');
