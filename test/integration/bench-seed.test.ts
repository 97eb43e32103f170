/**
 * The bench's seeded consumer rows are compared with the `r_cat_full` anchor, which reads the first
 * 1000 messages of category `batch` (written by `seedReads`): the default seed must hold exactly
 * what those hold, or the consumer/anchor ratio mixes row size into the comparison. The `single`
 * seed holds the single-write anchor's data and metadata. Seeded through the client (PGlite), as
 * the bench does on an embedded database.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seedReads } from '../../src/cli/bench/client-workloads.ts';
import { singleMessage } from '../../src/cli/bench/fixtures.ts';
import { seedCategory, seededType } from '../../src/cli/bench/seed.ts';
import { pgliteClient, randomCategory } from '../support/databases.ts';

test("the default consumer seed writes the rows r_cat_full reads; 'single' writes the single write's", async () => {
  const client = await pgliteClient();
  await seedReads(client);
  const [anchorRow] = await client.getCategoryMessages('batch', { position: 1, batchSize: 1 });
  assert.ok(anchorRow !== undefined, 'seedReads wrote category batch');

  const anchorShaped = randomCategory('seedanchor');
  await seedCategory(client, anchorShaped, 2500);
  const seeded = await client.getCategoryMessages(anchorShaped, { batchSize: -1 });
  assert.equal(seeded.length, 2500);
  for (const message of seeded) {
    assert.deepEqual([message.type, message.data, message.metadata], [anchorRow.type, anchorRow.data, anchorRow.metadata]);
  }
  // Gapless positions over 1000 streams: message n is at position n / 1000 of stream n % 1000.
  assert.deepEqual(
    [seeded[0], seeded[1001], seeded[2499]].map((message) => [message?.streamName, message?.position]),
    [
      [`${anchorShaped}-0`, 0],
      [`${anchorShaped}-1`, 1],
      [`${anchorShaped}-499`, 2],
    ],
  );

  const singleShaped = randomCategory('seedsingle');
  await seedCategory(client, singleShaped, 10, 'single');
  const { data, metadata } = singleMessage();
  for (const message of await client.getCategoryMessages(singleShaped)) {
    assert.deepEqual([message.type, message.data, message.metadata], [seededType, data, metadata]);
  }
});
