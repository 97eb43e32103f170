/**
 * Process crashes on a real server: writer processes and consumer group members (each a child
 * process) are killed with SIGKILL at random points and started again, while the others carry on.
 * A restarted writer resumes after its last acknowledged batch with the same message ids; a
 * restarted member resumes from its recorded positions. Afterwards the invariants of the load
 * suite hold, and each restart replayed at most its position update interval plus one batch.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Message } from '../../src/index.ts';
import { createDatabase, postgresClient } from '../support/databases.ts';
import { startChild, type Child } from '../support/reliability-children.ts';
import { crashSize as size, soak } from '../support/reliability-size.ts';
import { spread, verify, type HandledRecord } from '../support/reliability-verdict.ts';
import { planBatch, type Ack, type LoadData, type Workload } from '../support/reliability-workload.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const expectedVersionWriter = (writer: number): boolean => writer % 2 === 0;

describe('processes killed with SIGKILL', () => {
  test(`${size.writers} writer processes and ${size.groupSize} consumer group members, each killed at random points and started again: nothing lost, stream order kept, replays bounded`, {
    timeout: soak ? 30 * 60_000 : 4 * 60_000,
  }, async (t) => {
    const database = await createDatabase();
    const admin = await postgresClient({}, database);
    const runId = randomBytes(4).toString('hex');
    const workload: Workload = {
      runId,
      categories: Array.from({ length: size.categories }, (_, index) => `crash${runId}c${index}`),
      streams: size.streams,
      maxBatch: 10,
    };
    const total = size.writers * size.messagesPerWriter;

    // Writers: each resumes after its last acknowledged batch.
    const acks: Ack[] = [];
    const next = new Array<number>(size.writers).fill(0);
    const writers: Child[] = [];
    // Recovery: from a kill to the restarted process's first acknowledged write or handled message.
    const recoveries = { writers: [] as number[], members: [] as number[] };
    const startWriter = (writer: number, killedAt?: number): void => {
      writers[writer] = startChild(
        'test/support/reliability-writer-process.ts',
        {
          WRITER_URL: database.url,
          WRITER_RUN_ID: runId,
          WRITER_CATEGORIES: workload.categories.join(','),
          WRITER_STREAMS: String(size.streams),
          WRITER_MAX_BATCH: String(workload.maxBatch),
          WRITER_INDEX: String(writer),
          WRITER_FROM: String(next[writer]),
          WRITER_TO: String(size.messagesPerWriter),
          WRITER_EXPECTED_VERSION: expectedVersionWriter(writer) ? '1' : '0',
          WRITER_PAUSE_MS: String(size.writerPauseMs),
        },
        (line) => {
          const match = /^acked (\d+) ([\d,]+)$/.exec(line);
          if (match === null) return;
          const sequence = Number(match[1]);
          const batch = planBatch(workload, writer, sequence, expectedVersionWriter(writer), size.messagesPerWriter - sequence);
          const positions = (match[2] as string).split(',').map(Number);
          assert.equal(positions.length, batch.length, 'an ack covers its whole batch');
          acks.push({
            writer,
            sequence,
            ids: batch.map((m) => m.id as string),
            streamNames: batch.map((m) => m.streamName),
            positions,
            startedAt: 0,
            ackedAt: 0,
          });
          next[writer] = sequence + batch.length;
          if (killedAt !== undefined) recoveries.writers.push(performance.now() - killedAt);
          killedAt = undefined;
        },
      );
    };

    // Consumer group members: one process each, one run per process.
    const handled: HandledRecord[] = [];
    const handledIds = new Set<string>();
    const members: Child[] = [];
    let runs = 0;
    const startMember = (member: number, killedAt?: number): void => {
      const run = ++runs;
      members[member] = startChild(
        'test/support/reliability-consumer-process.ts',
        {
          MEMBER_URL: database.url,
          MEMBER_CATEGORIES: workload.categories.join(','),
          MEMBER_INDEX: String(member),
          MEMBER_GROUP_SIZE: String(size.groupSize),
          MEMBER_CONCURRENCY: String(size.concurrency),
          MEMBER_BATCH_SIZE: String(size.batchSize),
          MEMBER_POSITION_UPDATE_INTERVAL: String(size.positionUpdateInterval),
        },
        (line) => {
          const match = /^handled (\S+) (\S+) (\d+) (\d+)$/.exec(line);
          if (match === null) return;
          const [, id, streamName, position, globalPosition] = match as unknown as [string, string, string, string, string];
          handled.push({ member, run, id, streamName, position: Number(position), globalPosition: Number(globalPosition) });
          handledIds.add(id);
          if (killedAt !== undefined) recoveries.members.push(performance.now() - killedAt);
          killedAt = undefined;
        },
      );
    };

    for (let writer = 0; writer < size.writers; writer++) startWriter(writer);
    for (let member = 0; member < size.groupSize; member++) startMember(member);

    // Kill a writer, then a member, and so on, each at a random point of its work.
    const kills = { writers: 0, members: 0 };
    const writersDone = (): boolean => next.every((sequence) => sequence >= size.messagesPerWriter);
    const started = performance.now();
    while (!writersDone() && kills.writers + kills.members < size.maxKills) {
      await sleep(randomInt(size.killEveryMs / 2, size.killEveryMs * 2));
      const killWriter = kills.writers <= kills.members;
      const pool = killWriter ? writers : members;
      // Only a process that got going (printed a line) and has work left: a kill during start-up proves little.
      const candidates = pool
        .map((child, index) => ({ child, index }))
        .filter(({ child, index }) => child.alive && child.lines > 0 && (!killWriter || next[index]! < size.messagesPerWriter));
      if (candidates.length === 0) continue;
      const { child, index } = candidates[randomInt(candidates.length)]!;
      const killedAt = performance.now();
      child.kill('SIGKILL');
      assert.equal(await child.exited, 'SIGKILL');
      if (killWriter) {
        kills.writers++;
        startWriter(index, killedAt);
      } else {
        kills.members++;
        startMember(index, killedAt);
      }
    }
    for (const writer of writers) assert.equal(await writer.exited, 0, 'every writer finished its plan');
    const writeSeconds = (performance.now() - started) / 1000;

    const deadline = Date.now() + 120_000;
    while (handledIds.size < total) {
      if (Date.now() > deadline) throw new Error(`only ${handledIds.size} of ${total} messages handled after 2 minutes`);
      await sleep(50);
    }
    // A member restarted near the end may still be starting: SIGTERM goes to each only once it has
    // printed a line (`ready` comes after its SIGTERM handler is installed).
    const readyBy = Date.now() + 60_000;
    while (members.some((member) => member.alive && member.lines === 0)) {
      if (Date.now() > readyBy) throw new Error('a restarted member did not start within a minute');
      await sleep(50);
    }
    for (const member of members) member.kill('SIGTERM');
    for (const member of members) assert.equal(await member.exited, 0, 'every member stopped cleanly');

    const stored: Message<LoadData>[] = [];
    for (const category of workload.categories) stored.push(...(await admin.getCategoryMessages<LoadData>(category, { batchSize: -1 })));
    const verdict = verify(stored, acks, handled);

    // Replays per restarted consumer (member, category, run): messages its earlier runs had handled.
    const seenBefore = new Map<string, Set<string>>();
    const replays = new Map<string, number>();
    for (const record of handled) {
      const consumer = `${record.member}/${record.streamName.slice(0, record.streamName.indexOf('-'))}`;
      const seen = seenBefore.get(consumer) ?? new Set<string>();
      seenBefore.set(consumer, seen);
      if (seen.has(record.id)) replays.set(`${consumer}/${record.run}`, (replays.get(`${consumer}/${record.run}`) ?? 0) + 1);
      seen.add(record.id);
    }
    const bound = size.positionUpdateInterval + size.batchSize;
    const report = {
      size: soak ? 'full' : 'reduced',
      ...verdict.figures,
      writeSeconds: Number(writeSeconds.toFixed(1)),
      writerKills: kills.writers,
      memberKills: kills.members,
      mostReplayedByOneRestart: Math.max(0, ...replays.values()),
      // Mostly the start-up of a new Node process with tsx.
      writerRecoveryMs: spread(recoveries.writers.map(Math.round)),
      memberRecoveryMs: spread(recoveries.members.map(Math.round)),
      replayBound: bound,
    };
    t.diagnostic(`process-crash ${JSON.stringify(report)}`);
    if (process.env.MESSAGE_DB_RELIABILITY_REPORT)
      appendFileSync(process.env.MESSAGE_DB_RELIABILITY_REPORT, `${JSON.stringify({ suite: 'process-crash', ...report })}\n`);

    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.figures.acked, total, 'every planned message was acknowledged, some after a restart');
    assert.equal(verdict.figures.stored, total, 'and stored once');
    assert.equal(verdict.figures.storedUnacked, 0);
    assert.ok(kills.writers >= 1 && kills.members >= 1, `killed ${kills.writers} writers and ${kills.members} members`);
    for (const [consumerRun, count] of replays) assert.ok(count <= bound, `${consumerRun} replayed ${count} messages (bound ${bound})`);
  });
});
