/**
 * diagnose() on a real server: each finding provoked in a database of its own and absent from a
 * healthy store, and the same findings for a read-only role, which cannot write.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { diagnose, isAbortError, isInvalidArgumentError, MessageDbClient, type Finding } from '../../src/index.ts';
import { analyzeMessages } from '../support/analyze-messages.ts';
import { holdCategoryLock } from '../support/category-lock.ts';
import { adminQuery, createDatabase, onFileEnd, pgliteClient, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';

/** `count` messages in `category`, written in batches of 500, in streams of 10 messages. */
async function fill(client: MessageDbClient, category: string, count: number, data: () => Record<string, unknown> = () => ({ amount: 1 })): Promise<number> {
  let last = 0;
  for (let from = 0; from < count; from += 500) {
    const size = Math.min(500, count - from);
    const messages = Array.from({ length: size }, (_, index) => ({
      streamName: `${category}-${Math.floor((from + index) / 10)}`,
      type: 'Deposited',
      data: data(),
    }));
    const positions = await client.writeMessages(messages);
    last = Number(positions.at(-1));
  }
  const [row] = await client.query('SELECT max(global_position) AS head FROM message_store.messages WHERE message_store.category(stream_name) = $1', [
    category,
  ]);
  last = Number(row?.head);
  return last;
}

/** A consumer's position record, as the library's consumers write it. */
async function recordPosition(client: MessageDbClient, category: string, consumer: string, position: number, records = 1): Promise<string> {
  const streamName = `${category}:position-${consumer}`;
  const messages = Array.from({ length: records }, (_, index) => ({ streamName, type: 'Recorded', data: { position: position - records + 1 + index } }));
  for (let from = 0; from < messages.length; from += 500) await client.writeMessages(messages.slice(from, from + 500));
  return streamName;
}

const ofCode = (findings: Finding[], code: string): Finding[] => findings.filter((finding) => finding.code === code);
const about = (findings: Finding[], code: string, subject: string): Finding | undefined =>
  findings.find((finding) => finding.code === code && finding.subject === subject);

// The suites share nothing (a database each, or PGlite): they run side by side.
describe('diagnose()', { concurrency: true }, () => {
  describe('diagnose() on a healthy store', { concurrency: 1 }, () => {
    let client: MessageDbClient;
    before(async () => {
      const database = await createDatabase();
      client = await postgresClient({}, database);
      // Written by a client closed at once: a backend reports its inserts to the statistics when it exits.
      const writer = await MessageDbClient.connect({ connectionString: database.url });
      const category = randomCategory('healthy');
      const head = await fill(writer, category, 1200);
      await recordPosition(writer, category, 'worker', head, 3);
      await writer.close();
      await analyzeMessages(database.url);
    });

    test('reports only the server settings, as information', async () => {
      const findings = await diagnose(client);
      assert.deepEqual(
        findings.filter((finding) => finding.code !== 'server-settings'),
        [],
      );
      assert.ok(findings.length > 0 && findings.every((finding) => finding.severity === 'info'));
      assert.deepEqual(new Set(findings.map((finding) => finding.subject)), new Set(['synchronous_commit', 'max_connections', 'autovacuum']));
    });

    test('every finding has the documented shape, with a link to its section of the tuning guide', async () => {
      for (const finding of await diagnose(client)) {
        assert.deepEqual(Object.keys(finding).sort(), ['advice', 'code', 'detail', 'link', 'severity', 'subject']);
        assert.equal(finding.link, `docs/tuning.md#${finding.code}`);
        assert.ok(finding.detail.length > 0 && finding.advice.length > 0);
      }
    });

    test('an aborted signal ends it with AbortError', async () => {
      await assert.rejects(diagnose(client, { signal: AbortSignal.abort() }), (error) => isAbortError(error));
    });

    test('a bad threshold is refused with InvalidArgumentError naming it', async () => {
      await assert.rejects(diagnose(client, { lagMessages: 0 }), (error) => isInvalidArgumentError(error) && /lagMessages/.test(error.message));
      await assert.rejects(diagnose(client, { staleRatio: Number.NaN }), (error) => isInvalidArgumentError(error) && /staleRatio/.test(error.message));
    });
  });

  describe('diagnose() on a store with every problem', { concurrency: 1 }, () => {
    let database: TestDatabase;
    let client: MessageDbClient;
    before(async () => {
      database = await createDatabase();
      client = await postgresClient({}, database);
      // Statistics of the empty table, and no autovacuum to refresh them behind the test's back.
      await adminQuery('ALTER TABLE message_store.messages SET (autovacuum_enabled = false)', [], database.url);
      await adminQuery('ANALYZE message_store.messages', [], database.url);
    });

    test('consumer-lag: a consumer 1,100 messages behind, and not one that is caught up', async () => {
      const category = randomCategory('lag');
      const head = await fill(client, category, 1200);
      const lagging = await recordPosition(client, category, 'slow', head - 1100);
      const caughtUp = await recordPosition(client, category, 'fast', head);
      const findings = await diagnose(client);
      const finding = about(findings, 'consumer-lag', lagging);
      assert.equal(finding?.severity, 'warning');
      assert.match(
        finding?.detail ?? '',
        /^at least 1,000 messages of lag\w+ after its recorded position [\d,]+ \(category head [\d,]+, 1,100 global positions on\)/,
      );
      assert.match(finding?.detail ?? '', /last position record \d+ (ms|s) ago/);
      assert.equal(about(findings, 'consumer-lag', caughtUp), undefined);
    });

    test('consumer-lag: a consumer a few messages behind whose last record is older than lagSeconds', async () => {
      const category = randomCategory('idle');
      const head = await fill(client, category, 20);
      const stream = await recordPosition(client, category, 'idle', head - 5);
      assert.equal(about(await diagnose(client), 'consumer-lag', stream), undefined);
      await sleep(1100);
      const finding = about(await diagnose(client, { lagSeconds: 1 }), 'consumer-lag', stream);
      assert.match(finding?.detail ?? '', /^5 messages of /);
      assert.match(finding?.advice ?? '', /recorded nothing for a while/);
    });

    test('stale-statistics: the messages table analyzed while empty, then filled', async () => {
      await fill(client, randomCategory('stale'), 1500);
      // The server counts the rows some time after they are written.
      let finding: Finding | undefined;
      for (const deadline = Date.now() + 60_000; finding === undefined && Date.now() < deadline; await sleep(100)) {
        [finding] = ofCode(await diagnose(client), 'stale-statistics');
      }
      assert.equal(finding?.severity, 'warning');
      assert.equal(finding?.subject, 'message_store.messages');
      assert.match(finding?.detail ?? '', /rows changed since it was analyzed .* ago; the planner assumes 0 rows/);
    });

    test('position-stream-growth: a position stream of 500 records, and not one of 10', async () => {
      const category = randomCategory('grown');
      const grown = await recordPosition(client, category, 'busy', 499, 500);
      const small = await recordPosition(client, category, 'quiet', 9, 10);
      const findings = await diagnose(client);
      assert.match(about(findings, 'position-stream-growth', grown)?.detail ?? '', /^500 records in this position stream/);
      assert.equal(about(findings, 'position-stream-growth', small), undefined);
    });

    test('large-messages: a category of 50 KB messages, and not one of small ones', async () => {
      const large = randomCategory('large');
      const small = randomCategory('small');
      await fill(client, large, 5, () => ({ text: 'x'.repeat(50 * 1024) }));
      await fill(client, small, 5);
      const findings = await diagnose(client);
      assert.match(about(findings, 'large-messages', large)?.detail ?? '', /average 50\.\d KiB \(data 50\.\d KiB/);
      assert.equal(about(findings, 'large-messages', small), undefined);
    });

    test('sql-condition-enabled: ALTER DATABASE ... SET message_store.sql_condition = on', async () => {
      assert.deepEqual(ofCode(await diagnose(client), 'sql-condition-enabled'), []);
      await adminQuery(`ALTER DATABASE ${database.name} SET message_store.sql_condition = on`, [], database.url);
      const [finding] = ofCode(await diagnose(client), 'sql-condition-enabled');
      assert.equal(finding?.severity, 'warning');
      assert.equal(finding?.subject, `database ${database.name}`);
      await adminQuery(`ALTER DATABASE ${database.name} RESET message_store.sql_condition`, [], database.url);
    });

    test('hot-category-lock: a write waiting while another transaction holds its category lock', async () => {
      const category = randomCategory('hot');
      await fill(client, category, 1);
      const lock = await holdCategoryLock(database.url, category);
      const waiting = client.writeMessage({ streamName: `${category}-1`, type: 'Deposited', data: {} });
      try {
        let finding: Finding | undefined;
        for (const deadline = Date.now() + 30_000; finding?.severity !== 'warning' && Date.now() < deadline; await sleep(50)) {
          finding = about(await diagnose(client, { lockWaitMs: 200 }), 'hot-category-lock', category);
        }
        assert.equal(finding?.severity, 'warning');
        assert.match(finding?.detail ?? '', new RegExp(`for the write lock of ${category}, held by session \\d+ in a transaction open for`));
      } finally {
        await lock.release();
        await waiting;
      }
      assert.equal(about(await diagnose(client), 'hot-category-lock', category), undefined);
    });

    test('a read-only role gets the same findings, and cannot write', async () => {
      const role = `doctor_ro_${randomBytes(5).toString('hex')}`;
      const password = randomBytes(12).toString('hex');
      await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`, [], database.url);
      onFileEnd(async () => {
        await database.drop();
        await adminQuery(`DROP ROLE IF EXISTS ${role}`);
      });
      await adminQuery(`GRANT USAGE ON SCHEMA message_store TO ${role}; GRANT SELECT ON message_store.messages TO ${role}`, [], database.url);
      await adminQuery(`ALTER ROLE ${role} SET default_transaction_read_only = on`, [], database.url);
      const url = new URL(database.url);
      url.username = role;
      url.password = password;
      const readOnly = await MessageDbClient.connect({ connectionString: url.toString() });
      after(() => readOnly.close());
      await assert.rejects(readOnly.writeMessage({ streamName: `${randomCategory()}-1`, type: 'T', data: {} }));
      const summary = (findings: Finding[]): string[] =>
        findings.filter((finding) => finding.code !== 'server-settings').map((finding) => `${finding.code} ${finding.subject}`);
      const asAdmin = summary(await diagnose(client));
      const asReader = summary(await diagnose(readOnly));
      assert.deepEqual(asReader, asAdmin);
      assert.ok(asReader.some((line) => line.startsWith('consumer-lag ')));
    });
  });

  describe('diagnose() on PGlite', { concurrency: 1 }, () => {
    test('every check runs on the embedded server: a lagging consumer and large messages are found, no check says it could not run', async () => {
      const client = await pgliteClient();
      const category = randomCategory('embedded');
      const head = await fill(client, category, 30, () => ({ text: 'x'.repeat(20 * 1024) }));
      const stream = await recordPosition(client, category, 'slow', head - 20);
      const findings = await diagnose(client, { lagMessages: 5 });
      assert.equal(about(findings, 'consumer-lag', stream)?.severity, 'warning');
      assert.equal(about(findings, 'large-messages', category)?.severity, 'warning');
      assert.deepEqual(
        findings.filter((finding) => finding.subject === 'doctor'),
        [],
      );
    });
  });
});
