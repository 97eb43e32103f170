/**
 * Load with faults, on a PostgreSQL server of the test's own: concurrent writers (some with
 * expected versions) race over many streams while a consumer group reads every category at
 * concurrency above 1; every few seconds every backend is terminated, the server is restarted once,
 * and one member's consumers are replaced mid-run. Writers and consumers log in as the restricted
 * `message_store` role. Afterwards every invariant of issue 7 is checked, and the figures reported.
 * The size comes from reliability-size.ts (MESSAGE_DB_SOAK=1 for the full size).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { Consumer, MessageDbClient, consumerGroupMember, type Message } from '../../src/index.ts';
import { adminQuery, onFileEnd, randomCategory } from '../support/databases.ts';
import { startRestartableServer, type RestartableServer } from '../support/restartable-server.ts';
import { loadSize as size, soak } from '../support/reliability-size.ts';
import { spread, verify, type HandledRecord } from '../support/reliability-verdict.ts';
import { runWriter, type Ack, type LoadData, type Workload } from '../support/reliability-workload.ts';

interface Fault {
  kind: 'terminate' | 'restart';
  at: number;
  /** Backends terminated, or the server's downtime in ms for the restart. */
  detail: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Statements the clients retried after a connection fault, from their metrics. */
async function retried(clients: MessageDbClient[]): Promise<number> {
  let total = 0;
  for (const client of clients) {
    const line = (await client.metrics().metrics()).split('\n').find((text) => text.startsWith('messagedb_retries_total '));
    total += Number(line?.split(' ')[1] ?? 0);
  }
  return total;
}
const retry = { initialDelayMs: 20, maxDelayMs: 500 };

describe('load with faults', () => {
  let server: RestartableServer;
  let adminUrl: string;
  let admin: MessageDbClient;
  let roleUrl: URL;
  before(async () => {
    server = await startRestartableServer();
    onFileEnd(() => server.remove());
    await adminQuery('CREATE DATABASE mdbload', [], server.url());
    adminUrl = server.url('mdbload');
    admin = await MessageDbClient.connect({ connectionString: adminUrl, retry });
    onFileEnd(() => admin.close());
    await admin.install();
    // Everything under test logs in as Message DB's own restricted role (a server of the test's own:
    // the role is cluster-wide, and giving it a login is not for a shared server).
    const rolePassword = randomBytes(9).toString('hex');
    await adminQuery(`ALTER ROLE message_store LOGIN PASSWORD '${rolePassword}'`, [], adminUrl);
    roleUrl = new URL(adminUrl);
    roleUrl.username = 'message_store';
    roleUrl.password = rolePassword;
  });

  const open = async (applicationName: string, maxPoolSize: number): Promise<MessageDbClient> => {
    const client = await MessageDbClient.connect({
      connectionString: roleUrl.toString(),
      applicationName,
      maxPoolSize,
      metrics: true,
      retry: { ...retry, maxAttempts: 20 },
    });
    onFileEnd(() => client.close());
    return client;
  };

  test('logged in as the restricted message_store role, the client verifies the install, writes, reads and runs a consumer; UPDATE and DELETE are refused', async () => {
    const client = await open('rel-role', 2);
    assert.deepEqual(await client.install(), { action: 'verified', version: '1.3.0' });
    const category = randomCategory('role');
    await client.writeMessages(
      [
        { streamName: `${category}-1`, type: 'Opened' },
        { streamName: `${category}-1`, type: 'Closed' },
      ],
      { expectedVersion: -1 },
    );
    assert.equal((await client.getCategoryMessages(category)).length, 2);
    const handled: number[] = [];
    const consumer = new Consumer(client, { category, identifier: 'role' }).onAny((message) => void handled.push(message.globalPosition));
    const running = consumer.start();
    while (handled.length < 2) await sleep(10);
    await consumer.stop();
    await running;
    assert.equal((await consumer.stats()).recordedPosition, handled[1], 'the position was recorded as message_store');
    const raw = new pg.Client({ connectionString: roleUrl.toString() });
    await raw.connect();
    try {
      assert.equal((await raw.query('SELECT current_user AS name')).rows[0].name, 'message_store');
      await assert.rejects(raw.query('UPDATE message_store.messages SET type = type'), { code: '42501' });
      await assert.rejects(raw.query('DELETE FROM message_store.messages'), { code: '42501' });
    } finally {
      await raw.end();
    }
  });

  test(`${size.writers} writers, ${size.messages} messages, ${size.streams} streams in ${size.categories} categories, a ${size.groupSize}-member group at concurrency ${size.concurrency}, ` +
    `backends terminated every ${size.terminateEveryMs} ms and the server restarted once: every acknowledged write stored once, every message handled in stream order`, {
    timeout: soak ? 30 * 60_000 : 4 * 60_000,
  }, async (t) => {
    const runId = randomBytes(4).toString('hex');
    const workload: Workload = {
      runId,
      categories: Array.from({ length: size.categories }, (_, index) => `load${runId}c${index}`),
      streams: size.streams,
      maxBatch: size.maxBatch,
    };

    // Consumers: every member reads every category; one run per Consumer instance.
    const handled: HandledRecord[] = [];
    const handledIds = new Set<string>();
    const firstHandledAt = new Map<string, number>();
    let waitForAll: (() => void) | undefined;
    const memberClients = await Promise.all(Array.from({ length: size.groupSize }, (_, member) => open(`rel-member-${member}`, 6)));
    let runs = 0;
    const startConsumer = (member: number, category: string): { consumer: Consumer; running: Promise<void> } => {
      const run = ++runs;
      const consumer = new Consumer(memberClients[member] as MessageDbClient, {
        category,
        identifier: `member-${member}`,
        consumerGroup: { member, size: size.groupSize },
        concurrency: size.concurrency,
        batchSize: size.batchSize,
        positionUpdateInterval: size.positionUpdateInterval,
        retry,
      }).onAny<LoadData>(async (message) => {
        if (message.position % 7 === 0) await sleep(0);
        handled.push({ member, run, id: message.id, streamName: message.streamName, position: message.position, globalPosition: message.globalPosition });
        if (!firstHandledAt.has(message.id)) firstHandledAt.set(message.id, performance.now());
        handledIds.add(message.id);
        if (handledIds.size >= size.messages) waitForAll?.();
      });
      return { consumer, running: consumer.start() };
    };
    const consumers = new Map<string, { member: number; category: string; consumer: Consumer; running: Promise<void> }>();
    for (let member = 0; member < size.groupSize; member++) {
      for (const category of workload.categories) consumers.set(`${member}/${category}`, { member, category, ...startConsumer(member, category) });
    }
    const replaced: string[] = [];

    // Writers.
    const acks: Ack[] = [];
    let ackedMessages = 0;
    const writerClients = await Promise.all(Array.from({ length: size.writers }, (_, writer) => open(`rel-writer-${writer}`, 2)));
    const share = Math.ceil(size.messages / size.writers);
    const started = performance.now();
    const writing = Promise.all(
      writerClients.map((client, writer) =>
        runWriter(client, workload, {
          writer,
          from: 0,
          to: Math.min(share, size.messages - writer * share),
          expectedVersion: writer < size.expectedVersionWriters,
          onAck: (ack) => {
            acks.push(ack);
            ackedMessages += ack.ids.length;
          },
        }),
      ),
    );
    let writersDone = false;
    const writersFinished = writing.finally(() => {
      writersDone = true;
    });
    writersFinished.catch(() => {});

    // Faults, while the writers run: every backend terminated every terminateEveryMs, and at least
    // twice whatever the machine's speed (at 15 % and 80 % of the messages acknowledged, if the
    // clock has not brought those yet); the server restarted once at restartAt; a member redeployed
    // at 25 %.
    const faults: Fault[] = [];
    const terminationMilestones = [0.15, 0.8];
    let restarted = false;
    let lastTermination = performance.now();
    while (!writersDone) {
      await Promise.race([sleep(Math.min(50, size.terminateEveryMs)), writersFinished.catch(() => {})]);
      if (writersDone) break;
      if (!restarted && ackedMessages >= size.messages * size.restartAt) {
        restarted = true;
        const at = performance.now();
        await server.stop();
        await server.start();
        faults.push({ kind: 'restart', at, detail: performance.now() - at });
        continue;
      }
      if (replaced.length === 0 && ackedMessages >= size.messages * 0.25) {
        // A member redeployed: its consumers stop and new ones resume from the recorded positions.
        for (const [key, entry] of consumers) {
          if (entry.member !== 0) continue;
          await entry.consumer.stop();
          await entry.running;
          consumers.set(key, { ...entry, ...startConsumer(0, entry.category) });
          replaced.push(key);
        }
      }
      const terminations = faults.filter((fault) => fault.kind === 'terminate').length;
      const milestone = terminationMilestones[terminations];
      const due = performance.now() - lastTermination >= size.terminateEveryMs || (milestone !== undefined && ackedMessages >= size.messages * milestone);
      if (!due) continue;
      const at = performance.now();
      const [row] = await adminQuery<{ count: string }>(
        "SELECT count(pg_terminate_backend(pid)) AS count FROM pg_stat_activity WHERE datname = 'mdbload' AND usename = 'message_store'",
        [],
        adminUrl,
      );
      faults.push({ kind: 'terminate', at, detail: Number(row?.count) });
      lastTermination = performance.now();
    }
    const writerFigures = await writing;
    const writeSeconds = (performance.now() - started) / 1000;

    // Every message handled, then every consumer at the last message of its share.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${handledIds.size} of ${size.messages} messages handled after 3 minutes`)), 180_000);
      waitForAll = () => {
        clearTimeout(timer);
        resolve();
      };
      if (handledIds.size >= size.messages) waitForAll();
    });
    const stored: Message<LoadData>[] = [];
    for (const category of workload.categories) stored.push(...(await admin.getCategoryMessages<LoadData>(category, { batchSize: -1 })));
    const lastOfShare = new Map<string, number>();
    for (const message of stored) {
      const key = `${consumerGroupMember(message.streamName, size.groupSize)}/${message.streamName.slice(0, message.streamName.indexOf('-'))}`;
      lastOfShare.set(key, Math.max(lastOfShare.get(key) ?? 0, message.globalPosition));
    }
    const lags: number[] = [];
    for (const [key, { consumer }] of consumers) {
      const deadline = Date.now() + 30_000;
      let stats = await consumer.stats();
      while (stats.position !== (lastOfShare.get(key) ?? null) && Date.now() < deadline) {
        await sleep(20);
        stats = await consumer.stats();
      }
      assert.equal(stats.position, lastOfShare.get(key) ?? null, `${key} reached the last message of its share`);
      lags.push(stats.lag ?? 0);
    }
    for (const { consumer, running } of consumers.values()) {
      await consumer.stop();
      await running;
      const stats = await consumer.stats();
      assert.equal(stats.recordedPosition, stats.position, 'the position was recorded on stop');
    }

    // The invariants.
    const verdict = verify(stored, acks, handled);
    const { figures } = verdict;
    // Recovery: from the fault (from the server being up again, for the restart) to the first
    // acknowledged write started after it, and to the first of those writes being handled.
    const recovery = faults
      .map((fault) => {
        const from = fault.kind === 'restart' ? fault.at + fault.detail : fault.at;
        const writes = acks.filter((ack) => ack.startedAt >= from);
        const firstAck = Math.min(...writes.map((ack) => ack.ackedAt));
        const firstHandled = Math.min(...writes.flatMap((ack) => ack.ids.map((id) => firstHandledAt.get(id) ?? Infinity)));
        return { ...fault, writeMs: firstAck - from, endToEndMs: firstHandled - from };
      })
      .filter((fault) => Number.isFinite(fault.endToEndMs));
    const terminations = recovery.filter((fault) => fault.kind === 'terminate');
    const restart = recovery.find((fault) => fault.kind === 'restart');
    const report = {
      size: soak ? 'full' : 'reduced',
      ...figures,
      writeSeconds: Number(writeSeconds.toFixed(1)),
      writeCalls: writerFigures.reduce((sum, w) => sum + w.calls, 0),
      expectedVersionConflicts: writerFigures.reduce((sum, w) => sum + w.conflicts, 0),
      callsRetriedByWriters: writerFigures.reduce((sum, w) => sum + w.retriedCalls, 0),
      statementsRetriedByClients: await retried([...writerClients, ...memberClients]),
      terminations: faults.filter((fault) => fault.kind === 'terminate').length,
      backendsTerminated: faults.filter((fault) => fault.kind === 'terminate').reduce((sum, fault) => sum + fault.detail, 0),
      restartDowntimeMs: Math.round(restart?.detail ?? 0),
      restartRecovery: restart && { writeMs: Math.round(restart.writeMs), endToEndMs: Math.round(restart.endToEndMs) },
      terminationRecoveryWriteMs: spread(terminations.map((fault) => Math.round(fault.writeMs))),
      terminationRecoveryEndToEndMs: spread(terminations.map((fault) => Math.round(fault.endToEndMs))),
      consumersReplaced: replaced.length,
      consumerLagAtEnd: spread(lags),
      faults: recovery.map((fault) => ({
        kind: fault.kind,
        atSeconds: Number(((fault.at - started) / 1000).toFixed(1)),
        [fault.kind === 'restart' ? 'downMs' : 'backends']: Math.round(fault.detail),
        writeMs: Math.round(fault.writeMs),
        endToEndMs: Math.round(fault.endToEndMs),
      })),
    };
    t.diagnostic(`load-with-faults ${JSON.stringify(report)}`);
    if (process.env.MESSAGE_DB_RELIABILITY_REPORT)
      appendFileSync(process.env.MESSAGE_DB_RELIABILITY_REPORT, `${JSON.stringify({ suite: 'load-with-faults', ...report })}\n`);

    assert.deepEqual(verdict.problems, []);
    assert.equal(figures.acked, size.messages, 'every planned message was acknowledged');
    assert.equal(figures.lost, 0);
    assert.equal(figures.storedUnacked, 0);
    assert.equal(figures.stored, size.messages);
    assert.ok(restarted, 'the server was restarted during the run');
    assert.ok(report.terminations >= 2, `backends were terminated ${report.terminations} times`);
    // Only the replaced consumers may replay: each at most its position update interval plus the
    // messages of one batch that other streams handled ahead of the recorded position.
    const bound = replaced.length * (size.positionUpdateInterval + size.batchSize);
    assert.ok(figures.duplicates <= bound, `${figures.duplicates} duplicates, bound ${bound}`);
  });
});
