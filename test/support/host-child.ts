/**
 * A component host in a child process, for the host's signal tests: two consumers of one category
 * (one per stream parity, as a consumer group of 2). It prints one line per event: `state <host
 * state>`, `port <http port>` once running, `handling <global position>` when a handler starts and
 * `handled <global position>` when it ends (a message of type `Slow` takes HOST_SLOW_MS to handle),
 * and `exit` when `start()` resolved and the client closed.
 *
 * Environment: HOST_URL, HOST_CATEGORY, HOST_SLOW_MS (default 1000).
 */
import { Consumer, MessageDbClient, createHost } from '../../src/index.ts';
import { printLine } from './consumer-support.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const client = await MessageDbClient.connect(env('HOST_URL'));
const category = env('HOST_CATEGORY');
const slowMs = Number(process.env.HOST_SLOW_MS ?? 1000);
const host = createHost({
  http: { port: 0, host: '127.0.0.1' },
  onState: (state) => {
    void printLine(`state ${state}\n`);
    if (state === 'running') void printLine(`port ${host.port}\n`);
  },
  onError: (error, name) => void printLine(`error ${name} ${error instanceof Error ? error.name : 'error'}\n`),
});
for (const member of [0, 1]) {
  const consumer = new Consumer(client, { category, identifier: `host-${member}`, consumerGroup: { member, size: 2 }, pollIntervalMs: 50 });
  consumer.onAny(async (message) => {
    await printLine(`handling ${message.globalPosition}\n`);
    if (message.type === 'Slow') await new Promise((resolve) => setTimeout(resolve, slowMs));
    await printLine(`handled ${message.globalPosition}\n`);
  });
  host.add(consumer);
}
await host.start();
await client.close();
await printLine('exit\n');
