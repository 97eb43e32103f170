/**
 * Numbers through the command, in and out, on a real PostgreSQL database: a JSON number a double
 * cannot hold exactly is refused on input (exit 2, naming where it is), and a stored one (written by
 * psql or another client) is printed as stored by read, tail and last, not rounded.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { MessageDbClient } from '../../src/index.ts';
import { adminQuery, createDatabase, postgresClient, randomStreamName, type TestDatabase } from '../support/databases.ts';
import { assertFails, assertOk, runCli, temporaryDirectory } from './cli-process.ts';

/** What another client stored: beyond a double's precision, as jsonb keeps it. */
const storedData = '{"big": 12345678901234567890, "odd": 9007199254740993, "list": [9007199254740993, 0.1]}';
const printedData = '{"big":12345678901234567890,"odd":9007199254740993,"list":[9007199254740993,0.1]}';

describe('messagedb keeps JSON numbers exact', () => {
  let database: TestDatabase;
  let client: MessageDbClient;
  before(async () => {
    database = await createDatabase();
    client = await postgresClient({}, database);
  });

  test('write refuses a number a double cannot hold, naming the argument, the path and the number, and stores the ones it can keep', async () => {
    const stream = randomStreamName();
    const cases: Array<[string[], RegExp]> = [
      [['{"big":12345678901234567890}'], /data-json: the number 12345678901234567890 at \$\.big .*would become 12345678901234567000/],
      [['[1, {"a b": 9007199254740993}]'], /data-json: the number 9007199254740993 at \$\[1\]\["a b"\] .*would become 9007199254740992/],
      [['{"x":1e400}'], /data-json: the number 1e400 at \$\.x .*would become null/],
      [['1e-400'], /data-json: the number 1e-400 at \$ .*would become 0/],
      [['{}', '--metadata', '{"n":{"m":123456789012345678}}'], /--metadata: the number 123456789012345678 at \$\.n\.m /],
    ];
    for (const [args, pattern] of cases) {
      assertFails(await runCli(['write', stream, 'Big', ...args, '--url', database.url]), 2, pattern);
    }
    assert.equal(await client.streamVersion(stream), -1);
    // Numbers a double holds exactly go through, however they are written.
    assertOk(await runCli(['write', stream, 'Small', '[0.1, 1.0, 1e2, -0, 9007199254740992, -1.5e-7]', '--url', database.url]));
    const [row] = await adminQuery<{ data: string }>('SELECT data::text AS data FROM message_store.messages WHERE stream_name = $1', [stream], database.url);
    assert.equal(row?.data, '[0.1, 1, 100, 0, 9007199254740992, -0.00000015]');
  });

  test('write --file refuses such a number naming file:line and the path', async () => {
    const stream = randomStreamName();
    const file = join(temporaryDirectory(), 'messages.ndjson');
    writeFileSync(
      file,
      `{"streamName":"${stream}","type":"Ok","data":{"n":1}}\n{"streamName":"${stream}","type":"Big","data":{"n":[1,12345678901234567890]}}\n`,
    );
    assertFails(await runCli(['write', '--file', file, '--url', database.url]), 2, /messages\.ndjson:2: the number 12345678901234567890 at \$\.data\.n\[1\] /);
    assert.equal(await client.streamVersion(stream), -1);
  });

  test('read, tail and last print a stored number beyond double precision as stored', async () => {
    const stream = randomStreamName();
    await adminQuery(
      `INSERT INTO message_store.messages (id, stream_name, type, position, data, metadata)
       VALUES ($1, $2, 'Stored', 0, $3::jsonb, '{"total": 18446744073709551616}'::jsonb)`,
      [randomUUID(), stream, storedData],
      database.url,
    );
    const expectedLine = new RegExp(`"data":${escapeText(printedData)},"metadata":\\{"total":18446744073709551616\\},"time":"`);
    for (const args of [
      ['read', stream],
      ['tail', stream, '--position', '0', '--limit', '1'],
      ['last', stream],
    ]) {
      const result = await runCli([...args, '--url', database.url]);
      assertOk(result);
      assert.match(result.stdout, expectedLine, args[0]);
    }
    for (const args of [
      ['read', stream],
      ['last', stream],
    ]) {
      const result = await runCli([...args, '--table', '--url', database.url]);
      assertOk(result);
      assert.ok(result.stdout.includes(printedData), `${args[0]} --table: ${result.stdout}`);
    }
  });
});

function escapeText(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
