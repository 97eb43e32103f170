/**
 * `messagedb doctor` as a subprocess: NDJSON findings with --json, a report on a terminal table,
 * --strict's exit code, on a server (--url) and on the embedded default (--data-dir).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { MessageDbClient } from '../../src/index.ts';
import { analyzeMessages } from '../support/analyze-messages.ts';
import { createDatabase, postgresClient, randomCategory } from '../support/databases.ts';
import { assertFails, assertOk, records, runCli, temporaryDirectory } from './cli-process.ts';

/** A category of `count` messages and a consumer whose position is `behind` messages short of its head; the position stream's name. */
async function laggingConsumer(client: MessageDbClient, count: number, behind: number): Promise<string> {
  const category = randomCategory('doctor');
  const positions = await client.writeMessages(
    Array.from({ length: count }, (_, index) => ({ streamName: `${category}-${index % 7}`, type: 'Deposited', data: {} })),
  );
  const head = Number(positions.at(-1));
  const [row] = await client.query('SELECT max(global_position) AS head FROM message_store.messages WHERE message_store.category(stream_name) = $1', [
    category,
  ]);
  const streamName = `${category}:position-worker`;
  await client.writeMessage({ streamName, type: 'Recorded', data: { position: Number(row?.head ?? head) - behind } });
  return streamName;
}

const findingKeys = ['advice', 'code', 'detail', 'link', 'severity', 'subject'];

// The two suites share nothing: they run side by side (PGlite's start is mostly CPU, the server's suite mostly waits).
describe('messagedb doctor', { concurrency: true }, () => {
  describe('messagedb doctor on PostgreSQL', { concurrency: 1 }, () => {
    let healthyUrl: string;
    let laggingUrl: string;
    let lagging: string;
    before(async () => {
      const healthy = await createDatabase();
      healthyUrl = healthy.url;
      await postgresClient({}, healthy);
      const database = await createDatabase();
      laggingUrl = database.url;
      await postgresClient({}, database);
      // Written by a client closed at once: a backend reports its inserts to the statistics when it exits.
      const writer = await MessageDbClient.connect({ connectionString: laggingUrl });
      lagging = await laggingConsumer(writer, 1500, 1200);
      await writer.close();
      // Fresh statistics: the only warning is the consumer's lag.
      await analyzeMessages(laggingUrl);
    });

    test('--json prints one finding a line, each with code, severity, subject, detail, advice and link; exit 0 without --strict', async () => {
      const result = await runCli(['doctor', '--url', laggingUrl, '--json']);
      assertOk(result);
      const findings = records(result);
      assert.ok(findings.length > 0);
      for (const finding of findings) {
        assert.deepEqual(Object.keys(finding).sort(), findingKeys);
        assert.match(String(finding.severity), /^(info|warning|error)$/);
        assert.equal(finding.link, `docs/tuning.md#${String(finding.code)}`);
      }
      const lag = findings.find((finding) => finding.code === 'consumer-lag');
      assert.equal(lag?.subject, lagging);
      assert.equal(lag?.severity, 'warning');
      assert.equal(findings[0], lag, 'warnings come before information');
    });

    test('--strict exits 1 when a warning was found, saying so in one line', async () => {
      assertFails(await runCli(['doctor', '--url', laggingUrl, '--strict', '--json']), 1, /doctor found 1 warning or error \(--strict\)/);
    });

    test('--strict exits 0 on a healthy store, which shows only information', async () => {
      const result = await runCli(['doctor', '--url', healthyUrl, '--strict', '--json']);
      assertOk(result);
      assert.deepEqual(new Set(records(result).map((finding) => finding.severity)), new Set(['info']));
    });

    test('on a terminal table: each finding with its detail, advice and section of the guide, then a count by severity', async () => {
      const result = await runCli(['doctor', '--url', laggingUrl, '--table', '--lag-messages', '5000']);
      assertOk(result);
      assert.doesNotMatch(result.stdout, /consumer-lag/, '--lag-messages raised the threshold above this lag');
      const warned = await runCli(['doctor', '--url', laggingUrl, '--table']);
      assert.match(warned.stdout, new RegExp(`^WARNING consumer-lag  ${lagging.replace('+', '\\+')}$`, 'm'));
      assert.match(
        warned.stdout,
        /^ {8}at least 1,000 messages of doctor\w+ after its recorded position [\d,]+ \(category head [\d,]+, 1,200 global positions on\)/m,
      );
      assert.match(warned.stdout, /^ {8}advice: /m);
      assert.match(warned.stdout, /^ {8}see docs\/tuning\.md#consumer-lag$/m);
      assert.match(warned.stdout, /^0 errors, 1 warning, 3 info$/m);
    });
  });

  describe('messagedb doctor on the embedded default', { concurrency: 1 }, () => {
    let dataDir: string;
    before(async () => {
      dataDir = join(temporaryDirectory(), 'store');
      const client = await MessageDbClient.embedded({ dataDir });
      try {
        await laggingConsumer(client, 20, 10);
      } finally {
        await client.close();
      }
    });

    test('runs on PGlite, finds the lagging consumer, and says that pool sizes do not apply', async () => {
      const result = await runCli(['doctor', '--data-dir', dataDir, '--json', '--lag-messages', '5']);
      assertOk(result);
      const findings = records(result);
      assert.equal(findings.find((finding) => finding.code === 'consumer-lag')?.severity, 'warning');
      assert.match(String(findings.find((finding) => finding.subject === 'max_connections')?.detail), /embedded server \(PGlite\)/);
    });
  });
});
