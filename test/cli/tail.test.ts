/**
 * `messagedb tail` on a real PostgreSQL database (--url), run as a subprocess: it follows new
 * messages as they are written, in order and without gaps, until Ctrl-C (exit 0) or --limit.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { MessageDbClient } from '../../src/index.ts';
import { createDatabase, postgresClient, randomCategory, randomStreamName } from '../support/databases.ts';
import { LineReader, assertOk, exitCode, runCli, spawnCli } from './cli-process.ts';

interface MessageRecord {
  streamName: string;
  type: string;
  position: number;
  globalPosition: number;
  data: { index: number } | null;
}

const parse = (lines: readonly string[]): MessageRecord[] => lines.map((line) => JSON.parse(line) as MessageRecord);

describe('messagedb tail on PostgreSQL', () => {
  let url: string;
  let client: MessageDbClient;
  before(async () => {
    const database = await createDatabase();
    url = database.url;
    client = await postgresClient({}, database);
  });

  test('tail follows messages written after it started, in order without gaps, until Ctrl-C (exit 0)', async () => {
    const category = randomCategory();
    await client.writeMessage({ streamName: `${category}-0`, type: 'Before' });
    const child = spawnCli(['tail', category, '--poll-interval-ms', '50', '--url', url]);
    const reader = new LineReader(child);
    try {
      // tail starts after the newest message it finds, so keep writing until it shows one.
      let index = 0;
      const deadline = Date.now() + 60_000;
      const writing = (async () => {
        while (reader.lines.length < 3 && Date.now() < deadline) {
          await client.writeMessage({ streamName: `${category}-${index % 3}`, type: 'Counted', data: { index: index++ } });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      await reader.until(() => reader.lines.length >= 3, 'three tailed messages', 60_000);
      await writing;
      child.kill('SIGINT');
      assert.equal(await exitCode(child), 0, reader.stderr);
    } finally {
      child.kill('SIGKILL');
    }
    const tailed = parse(reader.lines);
    assert.ok(
      tailed.every((message) => message.type === 'Counted'),
      'nothing from before it started',
    );
    const indexes = tailed.map((message) => message.data?.index ?? -1);
    const first = indexes[0] ?? 0;
    assert.deepEqual(
      indexes,
      Array.from({ length: indexes.length }, (_, offset) => first + offset),
    );
    const globals = tailed.map((message) => message.globalPosition);
    assert.deepEqual(
      globals,
      [...globals].sort((a, b) => a - b),
    );
  });

  test('tail --position --limit prints from that global position and stops after n messages', async () => {
    const category = randomCategory();
    await client.writeMessages(Array.from({ length: 4 }, (_, index) => ({ streamName: `${category}-1`, type: 'Counted', data: { index } })));
    const [, second] = await client.getCategoryMessages(category);
    const result = await runCli(['tail', category, '--position', String(second?.globalPosition), '--limit', '2', '--url', url]);
    assertOk(result);
    assert.deepEqual(
      parse(result.stdout.trim().split('\n')).map((message) => message.data?.index),
      [1, 2],
    );
  });

  test('tail --type prints only that type, and a stream name is tailed by stream position', async () => {
    const stream = randomStreamName();
    await client.writeMessages([
      { streamName: stream, type: 'Deposited', data: { index: 0 } },
      { streamName: stream, type: 'Withdrawn', data: { index: 1 } },
      { streamName: stream, type: 'Deposited', data: { index: 2 } },
    ]);
    const result = await runCli(['tail', stream, '--position', '0', '--type', 'Deposited', '--limit', '2', '--url', url]);
    assertOk(result);
    const tailed = parse(result.stdout.trim().split('\n'));
    assert.deepEqual(
      tailed.map((message) => [message.type, message.position]),
      [
        ['Deposited', 0],
        ['Deposited', 2],
      ],
    );
  });
});
