/**
 * `messagedb write`, `read` and `last` on a real PostgreSQL database (--url), run as a subprocess:
 * what they print (NDJSON, parsed back), what they store, and their exit codes on bad input.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { MessageDbClient } from '../../src/index.ts';
import { createDatabase, postgresClient, randomCategory, randomStreamName } from '../support/databases.ts';
import { assertFails, assertOk, records, runCli, temporaryDirectory } from './cli-process.ts';

interface MessageRecord {
  id: string;
  streamName: string;
  type: string;
  position: number;
  globalPosition: number;
  data: unknown;
  metadata: unknown;
  time: string;
}

describe('messagedb write, read and last on PostgreSQL', () => {
  let url: string;
  let client: MessageDbClient;
  const cli = (...args: string[]) => runCli([...args, '--url', url]);

  before(async () => {
    const database = await createDatabase();
    url = database.url;
    client = await postgresClient({}, database);
  });

  test('write prints the stream position and id, and the message is stored with its data and metadata', async () => {
    const stream = randomStreamName();
    const id = randomUUID();
    const first = await cli('write', stream, 'Deposited', '{"amount": 10}', '--metadata', '{"correlationStreamName": "transfer-1"}', '--id', id);
    assertOk(first);
    assert.deepEqual(records(first), [{ streamName: stream, type: 'Deposited', id, position: 0 }]);
    const second = await cli('write', stream, 'Withdrawn');
    assertOk(second);
    assert.equal(records(second)[0]?.position, 1);
    const [stored] = await client.getStreamMessages(stream);
    assert.equal(stored?.id, id);
    assert.deepEqual(stored?.data, { amount: 10 });
    assert.deepEqual(stored?.metadata, { correlationStreamName: 'transfer-1' });
  });

  test('write with the right --expected-version succeeds, and -1 means an empty stream', async () => {
    const stream = randomStreamName();
    assertOk(await cli('write', stream, 'Opened', '{}', '--expected-version', '-1'));
    const result = await cli('write', stream, 'Deposited', '{"amount": 1}', '--expected-version', '0');
    assertOk(result);
    assert.equal(records(result)[0]?.position, 1);
  });

  test('write with a wrong --expected-version exits 1 naming the expected and the actual version', async () => {
    const stream = randomStreamName();
    await client.writeMessage({ streamName: stream, type: 'Opened' });
    const result = await cli('write', stream, 'Deposited', '{}', '--expected-version', '5');
    assertFails(result, 1, /expected 5, but the stream version is 0/);
    assert.equal(await client.streamVersion(stream), 0);
  });

  test('write rejects bad JSON, non-object metadata, a bad id and missing arguments with exit 2', async () => {
    const stream = randomStreamName();
    assertFails(await cli('write', stream, 'T', '{"amount": '), 2, /data-json is not valid JSON/);
    assertFails(await cli('write', stream, 'T', '{}', '--metadata', '[1]'), 2, /--metadata must be a JSON object/);
    assertFails(await cli('write', stream, 'T', '{}', '--id', 'not-a-uuid'), 2, /id must be a UUID/);
    assertFails(await cli('write', stream), 2, /missing <stream> and <type>/);
    assertFails(await cli('write', stream, 'T', '--expected-version', 'x'), 2, /--expected-version.*must be an integer >= -1/);
    assertFails(await cli('write', stream, 'T', '--nope'), 2, /unknown option '--nope'/);
    assert.equal(await client.streamVersion(stream), -1);
  });

  test('write --file writes every line in batches and keeps each stream in file order', async () => {
    const category = randomCategory();
    const lines = Array.from({ length: 250 }, (_, index) => JSON.stringify({ streamName: `${category}-${index % 7}`, type: 'Counted', data: { index } }));
    const file = join(temporaryDirectory(), 'messages.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n\n`);
    const result = await cli('write', '--file', file, '--batch-size', '100');
    assertOk(result);
    const [summary] = records(result);
    assert.equal(summary?.written, 250);
    assert.equal(summary?.batches, 3);
    const stored = [];
    for await (const message of client.readCategory<{ index: number }>(category)) stored.push(message);
    assert.deepEqual(
      stored.map((message) => message.data.index),
      Array.from({ length: 250 }, (_, index) => index),
    );
    for (const message of stored) assert.equal(message.position, Math.floor(message.data.index / 7));
  });

  test('write --file - reads the messages from stdin', async () => {
    const stream = randomStreamName();
    const input = [
      { streamName: stream, type: 'A' },
      { streamName: stream, type: 'B', data: { b: 1 }, metadata: { m: 2 } },
    ]
      .map((line) => JSON.stringify(line))
      .join('\n');
    const result = await runCli(['write', '--file', '-', '--url', url], { input });
    assertOk(result);
    assert.equal(records(result)[0]?.written, 2);
    assert.deepEqual(
      (await client.getStreamMessages(stream)).map((message) => message.type),
      ['A', 'B'],
    );
  });

  test('write --file stops at a bad line naming it, and writes nothing of its batch', async () => {
    const stream = randomStreamName();
    const file = join(temporaryDirectory(), 'bad.ndjson');
    writeFileSync(file, [JSON.stringify({ streamName: stream, type: 'A' }), JSON.stringify({ streamName: stream, type: 'B' }), '{oops'].join('\n'));
    assertFails(await cli('write', '--file', file), 2, /bad\.ndjson:3: not valid JSON/);
    writeFileSync(file, [JSON.stringify({ streamName: stream, type: 'A' }), JSON.stringify({ streamName: stream, kind: 'B' })].join('\n'));
    assertFails(await cli('write', '--file', file), 2, /bad\.ndjson:2: unknown key "kind"/);
    writeFileSync(file, [JSON.stringify({ streamName: stream, type: 'A' }), JSON.stringify({ streamName: stream, type: '' })].join('\n'));
    assertFails(await cli('write', '--file', file), 2, /bad\.ndjson:2: messages\[1\]\.type must be a non-empty string/);
    assertFails(await cli('write', '--file', join(temporaryDirectory(), 'missing.ndjson')), 2, /no such file/);
    assert.equal(await client.streamVersion(stream), -1);
  });

  test('read prints a stream as NDJSON in position order, from --position and up to --limit', async () => {
    const stream = randomStreamName();
    await client.writeMessages(Array.from({ length: 5 }, (_, index) => ({ streamName: stream, type: 'Counted', data: { index } })));
    const all = records<MessageRecord>(await cli('read', stream));
    assert.deepEqual(
      all.map((message) => message.position),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(all[2]?.data, { index: 2 });
    assert.equal(all[0]?.streamName, stream);
    assert.ok(!Number.isNaN(Date.parse(all[0]?.time ?? '')));
    const some = records<MessageRecord>(await cli('read', stream, '--position', '1', '--limit', '2'));
    assert.deepEqual(
      some.map((message) => message.position),
      [1, 2],
    );
  });

  test('read of a category filters by --type, and --group members split it without overlap', async () => {
    const category = randomCategory();
    const messages = Array.from({ length: 40 }, (_, index) => ({
      streamName: `${category}-${index % 10}`,
      type: index % 2 === 0 ? 'Even' : 'Odd',
    }));
    await client.writeMessages(messages);
    const evens = records<MessageRecord>(await cli('read', category, '--type', 'Even'));
    assert.equal(evens.length, 20);
    assert.ok(evens.every((message) => message.type === 'Even'));
    const members = await Promise.all([0, 1, 2].map(async (member) => records<MessageRecord>(await cli('read', category, '--group', `${member}/3`))));
    const seen = members
      .flat()
      .map((message) => message.globalPosition)
      .sort((a, b) => a - b);
    assert.equal(seen.length, 40);
    assert.equal(new Set(seen).size, 40);
    for (const [index, share] of members.entries()) {
      const streams = new Set(share.map((message) => message.streamName));
      for (const [other, otherShare] of members.entries()) {
        if (other !== index) assert.ok(otherShare.every((message) => !streams.has(message.streamName)));
      }
    }
  });

  test('read --correlation keeps the messages correlated with a category', async () => {
    const category = randomCategory();
    await client.writeMessages([
      { streamName: `${category}-1`, type: 'Plain' },
      { streamName: `${category}-1`, type: 'Correlated', metadata: { correlationStreamName: 'transfer-42' } },
    ]);
    const result = records<MessageRecord>(await cli('read', category, '--correlation', 'transfer'));
    assert.deepEqual(
      result.map((message) => message.type),
      ['Correlated'],
    );
  });

  test('read of a stream or category with no messages exits 3', async () => {
    assertFails(await cli('read', randomStreamName()), 3, /stream .* has no messages/);
    assertFails(await cli('read', randomCategory()), 3, /category .* has no messages/);
  });

  test('read rejects category-only options on a stream and a malformed --group with exit 2', async () => {
    assertFails(await cli('read', randomStreamName(), '--group', '0/2'), 2, /apply to a category/);
    assertFails(await cli('read', randomCategory(), '--group', '3/2'), 2, /member must be from 0 to size - 1/);
    assertFails(await cli('read', randomCategory(), '--group', 'x'), 2, /must be member\/size/);
    assertFails(await cli('read', randomCategory(), '--correlation', 'transfer-1'), 2, /correlation must be a category/);
  });

  test('read --table prints a table with a header row', async () => {
    const stream = randomStreamName();
    await client.writeMessage({ streamName: stream, type: 'Deposited', data: { amount: 10 } });
    const result = await cli('read', stream, '--table');
    assertOk(result);
    const [header, row] = result.stdout.split('\n');
    assert.match(header ?? '', /^GLOBAL\s+POSITION\s+TIME\s+STREAM\s+TYPE\s+DATA$/);
    assert.match(row ?? '', new RegExp(`\\s0\\s+\\S+ \\S+\\s+${stream}\\s+Deposited\\s+\\{"amount":10\\}$`));
  });

  test('last prints the last message, or the last of a --type', async () => {
    const stream = randomStreamName();
    await client.writeMessages([
      { streamName: stream, type: 'Deposited', data: { amount: 1 } },
      { streamName: stream, type: 'Deposited', data: { amount: 2 } },
      { streamName: stream, type: 'Withdrawn', data: { amount: 3 } },
    ]);
    const last = records<MessageRecord>(await cli('last', stream));
    assert.deepEqual([last[0]?.type, last[0]?.position, last[0]?.data], ['Withdrawn', 2, { amount: 3 }]);
    const lastDeposit = records<MessageRecord>(await cli('last', stream, '--type', 'Deposited'));
    assert.deepEqual([lastDeposit[0]?.position, lastDeposit[0]?.data], [1, { amount: 2 }]);
  });

  test('last exits 3 for a stream with no messages, or none of the type', async () => {
    const stream = randomStreamName();
    assertFails(await cli('last', stream), 3, /has no messages$/);
    await client.writeMessage({ streamName: stream, type: 'Deposited' });
    assertFails(await cli('last', stream, '--type', 'Withdrawn'), 3, /has no messages of type Withdrawn/);
  });
});
