/**
 * An elastic consumer group of child processes on a real server, under steady writes: it grows
 * from 1 to 4 members, one member is killed with SIGKILL mid-batch, another is paused with SIGSTOP
 * past its lease timeout and resumed, and one stops cleanly, leaving 2. Every message is handled,
 * each stream in order, no stream by two members at once (except the calls the paused member had in
 * flight when it was paused: the stated fencing window), and replays stay within the stated bound.
 * `npm run test:elastic` runs the full size (MESSAGE_DB_ELASTIC_FULL=1).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { positionStreamName } from '../../src/index.ts';
import { createDatabase, postgresClient } from '../support/databases.ts';
import { startChild, type Child } from '../support/reliability-children.ts';
import { verifyElastic, type HandlerInterval, type Pause } from '../support/elastic-verdict.ts';

const full = process.env.MESSAGE_DB_ELASTIC_FULL === '1';
const size = full
  ? { partitions: 16, streams: 200, perTick: 20, tickMs: 20, leaseMs: 5000, heartbeatMs: 500, positionUpdateInterval: 50, settleMs: 3000 }
  : { partitions: 8, streams: 40, perTick: 6, tickMs: 25, leaseMs: 2000, heartbeatMs: 200, positionUpdateInterval: 20, settleMs: 500 };
const concurrency = 2;
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface Member {
  name: string;
  child: Child;
  partitions: number[];
  open: Map<number, HandlerInterval>;
}

describe('an elastic consumer group of processes', () => {
  test('grows from 1 to 4 members and shrinks to 2 through a kill, a pause past the lease and a clean stop, under steady writes: nothing skipped, order kept, no stream handled twice at once', {
    timeout: full ? 15 * 60_000 : 180_000,
  }, async () => {
    const database = await createDatabase();
    const client = await postgresClient({}, database);
    const category = `elastic${randomBytes(4).toString('hex')}`;
    const identifier = 'worker';
    const intervals: HandlerInterval[] = [];
    const pauses: Pause[] = [];
    const members: Member[] = [];
    const start = (name: string): Member => {
      const member: Member = { name, child: undefined as unknown as Child, partitions: [], open: new Map() };
      member.child = startChild(
        'test/support/elastic-member.ts',
        {
          ELASTIC_URL: database.url,
          ELASTIC_CATEGORY: category,
          ELASTIC_IDENTIFIER: identifier,
          ELASTIC_PARTITIONS: String(size.partitions),
          ELASTIC_LEASE_MS: String(size.leaseMs),
          ELASTIC_HEARTBEAT_MS: String(size.heartbeatMs),
          ELASTIC_POSITION_UPDATE_INTERVAL: String(size.positionUpdateInterval),
          ELASTIC_CONCURRENCY: String(concurrency),
          ELASTIC_HANDLER_MS: '3',
        },
        (line) => {
          const [kind, ...fields] = line.split(' ');
          if (kind === 's') {
            const [globalPosition, streamName, position, time] = fields;
            member.open.set(Number(globalPosition), {
              member: name,
              globalPosition: Number(globalPosition),
              streamName: streamName as string,
              position: Number(position),
              start: Number(time),
              end: Number.POSITIVE_INFINITY,
            });
          } else if (kind === 'e') {
            const interval = member.open.get(Number(fields[0]));
            if (interval === undefined) return;
            member.open.delete(interval.globalPosition);
            interval.end = Number(fields[1]);
            intervals.push(interval);
          } else if (kind === 'p') {
            member.partitions = fields[0] === '' || fields[0] === undefined ? [] : (fields[0] as string).split(',').map(Number);
          }
        },
      );
      members.push(member);
      return member;
    };
    const live = (): Member[] => members.filter((member) => member.child.alive);
    const held = (): number[] => live().flatMap((member) => member.partitions);
    const balancedOver = (group: Member[]): boolean => {
      const counts = group.map((member) => member.partitions.length);
      const all = group.flatMap((member) => member.partitions);
      return new Set(all).size === size.partitions && all.length === size.partitions && Math.max(...counts) - Math.min(...counts) <= 1;
    };

    // Steady writes from this process, round robin over the streams, until the end.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        const batch = Array.from({ length: size.perTick }, (_, index) => ({
          streamName: `${category}-${(written + index) % size.streams}`,
          type: 'Ticked',
          data: { n: written + index },
        }));
        await client.writeMessages(batch);
        written += batch.length;
        await sleep(size.tickMs);
      }
    })();

    try {
      const a = start('a');
      await waitFor('the first member to hold every partition', () => balancedOver([a]));
      const b = start('b');
      const c = start('c');
      const d = start('d');
      await waitFor('4 members to share the partitions', () => balancedOver([a, b, c, d]));
      await sleep(size.settleMs);

      // SIGKILL mid-batch: b is handling a message right now.
      await waitFor('b to be mid-call', () => b.open.size > 0, 10_000);
      b.child.kill('SIGKILL');
      const killedAt = now();
      await b.child.exited;
      for (const interval of b.open.values()) intervals.push({ ...interval, end: killedAt });
      b.partitions = [];
      await waitFor('3 members to share the partitions after the kill', () => balancedOver([a, c, d]));
      await sleep(size.settleMs);

      // SIGSTOP past the lease: a and d take c's partitions, then c resumes and finds out.
      await waitFor('c to be mid-call', () => c.open.size > 0, 10_000);
      c.child.kill('SIGSTOP');
      const pause: Pause = { member: 'c', from: now(), to: Number.POSITIVE_INFINITY };
      pauses.push(pause);
      const cHeld = [...c.partitions];
      await waitFor("a and d to take the paused member's partitions", () => {
        const taken = new Set([...a.partitions, ...d.partitions]);
        return cHeld.every((partition) => taken.has(partition)) && taken.size === size.partitions;
      });
      c.child.kill('SIGCONT');
      pause.to = now();
      await waitFor('the resumed member to rejoin and the 3 to share again', () => balancedOver([a, c, d]));
      await sleep(size.settleMs);

      // A clean stop: 2 members left.
      d.child.kill('SIGTERM');
      assert.equal(await d.child.exited, 0);
      d.partitions = [];
      await waitFor('2 members to share the partitions', () => balancedOver([a, c]));
      await sleep(size.settleMs);
    } finally {
      writing = false;
      await writer;
    }
    const head = await client.categoryHead(category);
    const messages: number[] = [];
    for await (const message of client.readCategory(category)) messages.push(message.globalPosition);
    assert.equal(messages.length, written);
    await waitFor('every message to be handled', () => {
      const done = new Set(intervals.map((interval) => interval.globalPosition));
      return messages.every((position) => done.has(position));
    });
    for (const member of live()) member.child.kill('SIGTERM');
    for (const member of members) await member.child.exited;
    assert.deepEqual(held().length, 0);

    const verdict = verifyElastic(intervals, messages, pauses);
    // Replays: a partition handed over cleanly replays its last recorded message (1); one taken from
    // a killed or paused member replays at most positionUpdateInterval + concurrency messages.
    const cleanHandovers = size.partitions * 6;
    const lostPartitions = size.partitions;
    const replayBound = cleanHandovers + lostPartitions * (size.positionUpdateInterval + concurrency);
    process.stderr.write(
      `elastic group: ${messages.length} messages (head ${head}), ${intervals.length} handler calls, replays ${verdict.replays} (bound ${replayBound}), ` +
        `paused member's calls in flight at the pause that overlapped another member's: ${verdict.pausedOverlaps} (bound ${size.partitions * concurrency}), running on at most ${Math.round(verdict.pausedOverlapMs)} ms past the other's start\n`,
    );
    assert.deepEqual(verdict.problems, []);
    assert.ok(verdict.replays <= replayBound, `replays ${verdict.replays} > bound ${replayBound}`);
    // The paused member overlaps only with what it had in flight: at most `concurrency` calls per partition it held.
    assert.ok(verdict.pausedOverlaps <= size.partitions * concurrency, `paused overlaps ${verdict.pausedOverlaps}`);

    // Each partition's position stream is an ordinary Eventide one, recorded with its group.
    for (let partition = 0; partition < size.partitions; partition++) {
      const last = await client.getLastStreamMessage(positionStreamName(category, `${identifier}-${partition}`));
      assert.equal(last?.type, 'Recorded');
      assert.deepEqual(last?.metadata?.localProperties, { consumerGroupMember: partition, consumerGroupSize: size.partitions });
    }
  });
});
