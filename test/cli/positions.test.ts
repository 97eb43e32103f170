/**
 * `messagedb positions compact`, run as the built bin against PostgreSQL: a dry run reports and
 * deletes nothing, a run deletes all but the last record of each position stream, bad options exit
 * 2, and a role with Message DB's `message_store` grants is refused with exit 1 and one line.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { positionStreamName, recordPosition, type MessageDbClient } from '../../src/index.ts';
import { adminQuery, createDatabase, onFileEnd, postgresClient, randomCategory } from '../support/databases.ts';
import { assertFails, assertOk, records, runCli } from './cli-process.ts';

describe('messagedb positions compact', () => {
  let url: string;
  let client: MessageDbClient;
  let category: string;
  let streamName: string;
  before(async () => {
    const database = await createDatabase();
    client = await postgresClient({}, database);
    url = database.url;
    category = randomCategory('cliCompact');
    streamName = positionStreamName(category, 'w');
    for (let position = 1; position <= 4; position++) await recordPosition(client, streamName, position);
  });

  test('--dry-run reports what would be deleted and deletes nothing; then a run deletes it, keeping the last record', async () => {
    const dry = await runCli(['positions', 'compact', '--url', url, '--category', category, '--dry-run', '--json']);
    assertOk(dry);
    assert.deepEqual(records(dry), [{ category: `${category}:position`, scanned: 4, deleted: 3, dryRun: true }]);
    assert.equal(await client.streamVersion(streamName), 3);
    assert.equal((await client.getStreamMessages(streamName)).length, 4);
    const real = await runCli(['positions', 'compact', '--url', url, '--category', category, '--table']);
    assertOk(real);
    assert.match(real.stderr, /deleted 3 records of 4 in 1 category/);
    assert.match(real.stdout, new RegExp(`${category}:position\\s+4\\s+3`));
    const left = await client.getStreamMessages<{ position: number }>(streamName);
    assert.deepEqual(
      left.map((record) => [record.position, record.data.position]),
      [[3, 4]],
    );
  });

  test('bad options exit 2 naming the option', async () => {
    assertFails(await runCli(['positions', 'compact', '--url', url, '--keep', '0']), 2, /--keep/);
    assertFails(await runCli(['positions', 'compact', '--url', url, '--category', 'a-b']), 2, /category/);
  });

  test("under a role with the message_store role's grants it exits 1 saying it needs DELETE", async () => {
    const role = `mdbcli_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(9).toString('hex');
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' IN ROLE message_store`);
    onFileEnd(() => adminQuery(`DROP ROLE IF EXISTS ${role}`));
    const restricted = new URL(url);
    restricted.username = role;
    restricted.password = password;
    const result = await runCli(['positions', 'compact', '--url', restricted.toString(), '--category', category]);
    assertFails(result, 1, /needs a role that may DELETE on message_store\.messages/);
    assert.doesNotMatch(result.stderr, new RegExp(password));
  });
});
