/**
 * The test kit's helpers on a real PostgreSQL server (they take any client, not only test clients),
 * and the part of the client the kit builds on that is for embedded clients alone.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Consumer, type MessageDbClient, isInvalidArgumentError } from '../../src/index.ts';
import { expectWritten, given, randomCategory, runUntilCaughtUp, sequentialIds, written } from '../../src/testing/index.ts';
import { postgresClient } from '../support/databases.ts';

let client: MessageDbClient;
before(async () => {
  client = await postgresClient();
});

test('given, written, expectWritten and runUntilCaughtUp work on a server client too', async () => {
  const category = randomCategory('account');
  await given(client, `${category}-1`, [
    { type: 'Deposited', data: { amount: 3 } },
    { type: 'Deposited', data: { amount: 4 } },
  ]);
  let total = 0;
  const stats = await runUntilCaughtUp(
    new Consumer(client, { category }).on<{ amount: number }>('Deposited', (message) => {
      total += message.data.amount;
    }),
  );
  assert.equal(total, 7);
  assert.equal(stats.lag, 0);
  assert.equal((await written(client, category, 'Deposited')).length, 2);
  await expectWritten(client, `${category}-1`, { type: 'Deposited', data: { amount: 4 } });
});

test('the messageId option gives ids to a server client’s writes too', async () => {
  // The server's database is this file's own, but a random start keeps reruns apart all the same.
  const start = 1_000_000 + Math.floor(Math.random() * 1_000_000);
  const ids = await postgresClient({ messageId: sequentialIds(start) });
  const messages = await given(ids, `${randomCategory()}-1`, [{ type: 'A' }, { type: 'B' }]);
  assert.deepEqual(
    messages.map((message) => message.id),
    [start, start + 1].map((n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`),
  );
});

test('dumpDataDir() is for embedded clients: a server client refuses it', async () => {
  await assert.rejects(client.dumpDataDir(), (error) => isInvalidArgumentError(error) && /dumpDataDir\(\) is for embedded clients/.test(error.message));
});
