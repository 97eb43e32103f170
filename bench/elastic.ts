/**
 * Elastic consumer groups: how long a rebalance takes after a member joins, after one is killed
 * (SIGKILL: PostgreSQL ends its session at once) and after one is paused past its lease (SIGSTOP:
 * the others end its session after `leaseTimeoutMs`), with the default lease settings; and the
 * throughput of a 4-member elastic group against a fixed consumer group of 4 on the same data, each
 * member a process of its own (test/support/elastic-member.ts), handlers doing nothing. Each group
 * starts on an empty category of its own and, once every member polls (and an elastic group's
 * partitions are spread), the messages are written in one transaction: the rate runs from its commit
 * to the last message handled. Runs in a database of its own on the server `--url` points at.
 *
 * A rebalance is timed from the event to the first moment every partition is held and the live
 * members' shares differ by at most one, as the members report what they hold (every 100 ms).
 *
 * Usage: node --import tsx bench/elastic.ts --url postgres://postgres@127.0.0.1:5432/postgres [--messages N] [--rounds N]
 * Prints its markdown on stdout, its progress on stderr.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MessageDbClient } from '../src/index.ts';
import { startChild, type Child } from '../test/support/reliability-children.ts';
import { currentLoad } from './environment.ts';
import { createBenchDatabase } from './server.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    messages: { type: 'string', default: '40000' },
    rounds: { type: 'string', default: '3' },
  },
});
const messages = Number(values.messages);
const rounds = Number(values.rounds);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const median = (list: number[]): number => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

interface Member {
  child: Child;
  ready: boolean;
  handled: number;
  /** When it handled its last message (ms since the epoch). */
  lastHandledAt: number;
  partitions: number[];
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const database = await createBenchDatabase(values.url ?? process.env.MESSAGE_DB_BENCH_URL);
log(`elastic bench database: ${database.description}`);
const client = await MessageDbClient.connect(database.url);
const members: Member[] = [];
try {
  await client.install();
  const start = (category: string, identifier: string, env: Record<string, string>): Member => {
    const member: Member = { child: undefined as unknown as Child, ready: false, handled: 0, lastHandledAt: 0, partitions: [] };
    member.child = startChild(
      'test/support/elastic-member.ts',
      { ELASTIC_URL: database.url, ELASTIC_CATEGORY: category, ELASTIC_IDENTIFIER: identifier, ELASTIC_QUIET: '1', ELASTIC_GO_SIGNAL: '1', ...env },
      (line) => {
        if (line === 'ready') member.ready = true;
        else if (line.startsWith('h ')) {
          const [, handled, at] = line.split(' ');
          member.handled = Number(handled);
          member.lastHandledAt = Number(at);
        } else if (line.startsWith('p ')) {
          const list = line.split(' ')[1] ?? '';
          member.partitions = list === '' ? [] : list.split(',').map(Number);
        }
      },
    );
    members.push(member);
    return member;
  };
  const stopAll = async (group: Member[]): Promise<void> => {
    for (const member of group) member.child.kill(member.child.alive ? 'SIGTERM' : 'SIGKILL');
    for (const member of group) await member.child.exited;
  };
  const balanced = (group: Member[], partitions: number): boolean => {
    const live = group.filter((member) => member.child.alive);
    const all = live.flatMap((member) => member.partitions);
    const counts = live.map((member) => member.partitions.length);
    return all.length === partitions && new Set(all).size === partitions && Math.max(...counts) - Math.min(...counts) <= 1;
  };

  // Throughput: each group on a category of its own, the same messages written at once when it is ready.
  const seed = async (category: string): Promise<number> => {
    await client.transaction(async (tx) => {
      for (let written = 0; written < messages; written += 1000) {
        await tx.writeMessages(
          Array.from({ length: Math.min(1000, messages - written) }, (_, index) => ({
            streamName: `${category}-${(written + index) % 1000}`,
            type: 'Ticked',
            data: { n: written + index },
          })),
        );
      }
    });
    return performance.timeOrigin + performance.now();
  };
  const runGroup = async (label: string, envs: Record<string, string>[], identifier: string): Promise<number> => {
    const category = `elasticBench${randomBytes(4).toString('hex')}`;
    const group = envs.map((env) => start(category, identifier, env));
    await waitFor(`${label} ready`, () => group.every((member) => member.ready));
    for (const member of group) member.child.kill('SIGUSR1');
    const elastic = envs.some((env) => env.ELASTIC_FIXED_MEMBER === undefined);
    if (elastic) await waitFor(`${label} balanced`, () => balanced(group, Number(envs[0]?.ELASTIC_PARTITIONS)));
    // Every member polling: each reports its (zero) count once its consumer runs.
    await sleep(1000);
    const committed = await seed(category);
    await waitFor(`${label} done`, () => group.reduce((sum, member) => sum + member.handled, 0) >= messages);
    const rate = messages / ((Math.max(...group.map((member) => member.lastHandledAt)) - committed) / 1000);
    await stopAll(group);
    log(`  ${label}: ${Math.round(rate).toLocaleString('en-US')} msg/s`);
    return rate;
  };
  const throughput = { fixed: [] as number[], elastic8: [] as number[], elastic4: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const tag = `r${round}`;
    const fixed = [0, 1, 2, 3].map((member) => ({ ELASTIC_FIXED_MEMBER: String(member), ELASTIC_PARTITIONS: '4' }));
    const elastic = (partitions: number) => [0, 1, 2, 3].map(() => ({ ELASTIC_PARTITIONS: String(partitions) }));
    const runs = [
      async () => throughput.fixed.push(await runGroup('fixed group of 4', fixed, `fixed${tag}`)),
      async () => throughput.elastic8.push(await runGroup('elastic, 4 members, 8 partitions', elastic(8), `elastic8${tag}`)),
      async () => throughput.elastic4.push(await runGroup('elastic, 4 members, 4 partitions', elastic(4), `elastic4${tag}`)),
    ];
    // Each round starts with another of the three, so none always runs first.
    for (let index = 0; index < runs.length; index++) await (runs[(index + round) % runs.length] as () => Promise<number>)();
  }

  // Rebalances with the default settings (8 partitions, lease 10 s, heartbeat 2 s), idle category.
  const times = { join: [] as number[], kill: [] as number[], pause: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const quiet = `elasticIdle${randomBytes(3).toString('hex')}`;
    const group = [0, 1, 2].map(() => start(quiet, 'worker', { ELASTIC_PARTITIONS: '8', ELASTIC_HEARTBEAT_MS: '2000', ELASTIC_LEASE_MS: '10000' }));
    await waitFor('3 members ready', () => group.every((member) => member.ready));
    for (const member of group) member.child.kill('SIGUSR1');
    await waitFor('3 members balanced', () => balanced(group, 8));
    const joiner = start(quiet, 'worker', { ELASTIC_PARTITIONS: '8', ELASTIC_HEARTBEAT_MS: '2000', ELASTIC_LEASE_MS: '10000' });
    group.push(joiner);
    await waitFor('the joiner ready', () => joiner.ready);
    let began = performance.now();
    joiner.child.kill('SIGUSR1');
    await waitFor('4 members balanced', () => joiner.partitions.length > 0 && balanced(group, 8));
    times.join.push(performance.now() - began);
    await sleep(500);
    const killed = group[1] as Member;
    began = performance.now();
    killed.child.kill('SIGKILL');
    await killed.child.exited;
    await waitFor('3 members balanced after the kill', () => balanced(group, 8));
    times.kill.push(performance.now() - began);
    await sleep(500);
    const paused = group[2] as Member;
    began = performance.now();
    paused.child.kill('SIGSTOP');
    await waitFor('2 members balanced after the pause', () =>
      balanced(
        group.filter((member) => member !== paused),
        8,
      ),
    );
    times.pause.push(performance.now() - began);
    paused.child.kill('SIGCONT');
    await stopAll(group);
    log(
      `  round ${round + 1}: join ${Math.round(times.join.at(-1) ?? 0)} ms, kill ${Math.round(times.kill.at(-1) ?? 0)} ms, pause ${Math.round(times.pause.at(-1) ?? 0)} ms`,
    );
  }

  const fixed = median(throughput.fixed);
  const row = (label: string, rates: number[]): string =>
    `| ${label} | ${Math.round(median(rates)).toLocaleString('en-US')} | ${(median(rates) / fixed).toFixed(2)}x |`;
  const ms = (list: number[]): string => `${Math.round(median(list)).toLocaleString('en-US')} (${list.map((value) => Math.round(value)).join(', ')})`;
  process.stdout.write(
    [
      '## Elastic consumer groups',
      '',
      `Each member a process of its own on ${database.server}; ${messages.toLocaleString('en-US')} messages over 1,000 streams written in one transaction`,
      `once the group is running, handlers doing nothing, timed from the commit to the last message handled; medians of ${rounds} rounds;`,
      `load average at the end ${currentLoad().toFixed(1)}.`,
      '',
      '| 4 members | msg/s | / fixed group of 4 |',
      '| --- | ---: | ---: |',
      row('fixed consumer group (size 4)', throughput.fixed),
      row('elastic, 8 partitions (the default: 2 per member)', throughput.elastic8),
      row('elastic, 4 partitions (1 per member)', throughput.elastic4),
      '',
      'Time to rebalance, default settings (8 partitions, lease timeout 10 s, heartbeat 2 s), idle category, ms (median, then each round):',
      '',
      '| event | ms |',
      '| --- | ---: |',
      `| a 4th member joins 3 | ${ms(times.join)} |`,
      `| one of 4 is killed (SIGKILL) | ${ms(times.kill)} |`,
      `| one of 3 is paused (SIGSTOP) | ${ms(times.pause)} |`,
      '',
    ].join('\n'),
  );
} finally {
  for (const member of members) if (member.child.alive) member.child.kill('SIGKILL');
  await client.close();
  await database.drop();
}
