/**
 * Safe filters and typed writes on PostgreSQL and PGlite: a filter reads only its types or data
 * values without allowCondition or the database-wide setting, and leaves the setting as it found
 * it; every hostile string (quotes, backslashes, `$$`, `E'` prefixes, unicode escapes) written by
 * quoteLiteral reads back as itself, whatever standard_conforming_strings says; a message whose
 * data fails its schema is refused before any SQL.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { ConditionNotEnabledError, InvalidArgumentError, InvalidMessageError, defineMessage, messageRegistry, type MessageDbClient } from '../../src/index.ts';
import { quoteLiteral } from '../../src/vocabulary/condition.ts';
import { engines, randomCategory } from '../support/databases.ts';

/** Strings that have broken escaping before: quotes, backslashes, dollar quotes, escape prefixes, unicode escapes. */
const hostile = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      "'",
      '\\',
      '$',
      '$$',
      "E'",
      "U&'",
      '\\u0041',
      '\\x41',
      '"',
      ';',
      '--',
      '/*',
      '*/',
      ')',
      '(',
      '%',
      '%s',
      'a',
      ' ',
      '\n',
      '\t',
      'é',
      '😀',
    ),
    maxLength: 12,
  }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }).filter((value) => !value.includes('\u0000')),
);

const Deposited = defineMessage('Deposited', z.object({ amount: z.number().positive(), currency: z.string() }));

for (const engine of engines) {
  describe(`filters on ${engine.name}`, () => {
    let client: MessageDbClient;
    let category: string;
    before(async () => {
      client = await engine.open({ maxPoolSize: 1 });
      category = randomCategory('filter');
      await client.writeMessages([
        { streamName: `${category}-1`, ...Deposited.build({ amount: 1, currency: 'EUR' }) },
        { streamName: `${category}-1`, type: 'Withdrawn', data: { amount: 1, currency: 'EUR' } },
        { streamName: `${category}-2`, ...Deposited.build({ amount: 2, currency: 'USD' }) },
        { streamName: `${category}-2`, type: 'Closed', data: null },
      ]);
    });

    test('a type filter reads only those types, on a client without allowCondition', async () => {
      const messages = await client.getCategoryMessages(category, { filter: { types: ['Deposited', 'Closed'] } });
      assert.deepEqual(
        messages.map((m) => m.type),
        ['Deposited', 'Deposited', 'Closed'],
      );
      const stream = await client.getStreamMessages(`${category}-1`, { filter: { types: ['Withdrawn'] } });
      assert.deepEqual(
        stream.map((m) => m.position),
        [1],
      );
    });

    test('a data filter compares a top-level field with a value, as JSON', async () => {
      const usd = await client.getCategoryMessages(category, { filter: { data: { currency: 'USD' } } });
      assert.deepEqual(
        usd.map((m) => m.streamName),
        [`${category}-2`],
      );
      const both = await client.getCategoryMessages(category, { filter: { types: ['Withdrawn'], data: { amount: 1.0, currency: 'EUR' } } });
      assert.deepEqual(
        both.map((m) => m.type),
        ['Withdrawn'],
      );
      assert.deepEqual(await client.getCategoryMessages(category, { filter: { data: { amount: '1' } } }), [], 'the string "1" is not the number 1');
    });

    test('readCategory pages through a filtered category', async () => {
      const read = [];
      for await (const message of client.readCategory(category, { batchSize: 1, filter: { types: ['Deposited'] } })) read.push(message.globalPosition);
      assert.equal(read.length, 2);
    });

    test('a registry reads typed messages of a filtered stream', async () => {
      const registry = messageRegistry([Deposited]);
      const messages = await registry.getCategoryMessages(client, category, { filter: { types: registry.types } });
      assert.deepEqual(
        messages.map((m) => m.data.currency),
        ['EUR', 'USD'],
      );
      await assert.rejects(registry.getStreamMessages(client, `${category}-1`), /the registry has no definition of Withdrawn/);
    });

    test('after a filtered read the session setting is off, not the empty value the server would take as on', async () => {
      await client.getCategoryMessages(category, { filter: { types: ['Deposited'] } });
      const [row] = await client.query("SELECT current_setting('message_store.sql_condition', true) AS value");
      assert.ok(row?.value === 'off' || row?.value === null, `setting after a filtered read: ${JSON.stringify(row?.value)}`);
      await assert.rejects(client.getCategoryMessages(category, { condition: 'true' }), ConditionNotEnabledError, 'the raw condition is still refused');
      await assert.rejects(
        client.query('SELECT * FROM message_store.get_category_messages($1, 1, 10, NULL, NULL, NULL, $2)', [category, 'true']),
        (error: unknown) => error instanceof ConditionNotEnabledError && /not activated/.test(String((error.cause as Error | undefined)?.message)),
        'raw SQL on the same connection still meets the server refusal',
      );
    });

    test('inside a transaction the setting is on for the filtered statement alone, and left as it was found', async () => {
      const setting = "SELECT current_setting('message_store.sql_condition', true) AS value";
      const rawRead = 'SELECT * FROM message_store.get_category_messages($1, 1, 10, NULL, NULL, NULL, $2)';
      await client.transaction(async (tx) => {
        const filtered = await tx.getCategoryMessages(category, { filter: { types: ['Closed'] } });
        assert.equal(filtered.length, 1);
        const [row] = await tx.query(setting);
        assert.ok(row?.value === 'off' || row?.value === null, `setting after a filtered read in a transaction: ${JSON.stringify(row?.value)}`);
        await tx.query('SAVEPOINT raw');
        await assert.rejects(
          tx.query(rawRead, [category, 'true']),
          ConditionNotEnabledError,
          'raw SQL later in the transaction is still refused by the server',
        );
        await tx.query('ROLLBACK TO SAVEPOINT raw');
      });
      await client.transaction(async (tx) => {
        await tx.query("SET LOCAL message_store.sql_condition = 'on'");
        await tx.getStreamMessages(`${category}-1`, { filter: { types: ['Deposited'] } });
        const [row] = await tx.query(setting);
        assert.equal(row?.value, 'on', 'a value the caller set is kept');
      });
    });

    test('a filter and a raw condition together are refused before any SQL', async () => {
      await assert.rejects(client.getCategoryMessages(category, { filter: { types: ['A'] }, condition: 'true' }), InvalidArgumentError);
    });

    test('hostile strings written by quoteLiteral read back as themselves, with standard_conforming_strings on and off', async () => {
      await fc.assert(
        fc.asyncProperty(hostile, async (value) => {
          const [row] = await client.query(`SELECT ${quoteLiteral(value)}::text AS value`);
          assert.equal(row?.value, value);
          const [legacy] = await client.transaction(async (tx) => {
            await tx.query('SET LOCAL standard_conforming_strings = off');
            await tx.query('SET LOCAL escape_string_warning = off');
            return tx.query(`SELECT ${quoteLiteral(value)}::text AS value`);
          });
          assert.equal(legacy?.value, value);
        }),
        { numRuns: engine.name === 'pglite' ? 60 : 150 },
      );
    });

    test('a type and data filter with hostile values read exactly the message that has them', async () => {
      const hostileCategory = randomCategory('hostile');
      await fc.assert(
        fc.asyncProperty(
          hostile.filter((value) => value !== '' && value.isWellFormed()),
          hostile.filter((value) => value !== '' && value.isWellFormed()),
          async (type, value) => {
            const streamName = `${hostileCategory}-${Math.random().toString(16).slice(2)}`;
            await client.writeMessages([
              { streamName, type, data: { [value]: value } },
              { streamName, type: `${type}x`, data: { [value]: `${value}x` } },
            ]);
            const byType = await client.getStreamMessages(streamName, { filter: { types: [type] } });
            assert.deepEqual(
              byType.map((m) => m.position),
              [0],
            );
            const byData = await client.getStreamMessages(streamName, { filter: { data: { [value]: value } } });
            assert.deepEqual(
              byData.map((m) => m.position),
              [0],
            );
          },
        ),
        { numRuns: engine.name === 'pglite' ? 40 : 100 },
      );
    });

    test('NUL in a filter value is refused before any SQL', async () => {
      await assert.rejects(client.getCategoryMessages(category, { filter: { types: ['a\u0000b'] } }), InvalidArgumentError);
      await assert.rejects(client.getCategoryMessages(category, { filter: { data: { a: 'a\u0000' } } }), InvalidArgumentError);
    });

    test('a message whose data fails its schema is refused before any SQL: nothing is written', async () => {
      const streamName = `${randomCategory('invalid')}-1`;
      await assert.rejects(async () => client.writeMessage({ streamName, ...Deposited.build({ amount: -1, currency: 'EUR' }) }), InvalidMessageError);
      assert.equal(await client.streamVersion(streamName), -1);
    });
  });
}
