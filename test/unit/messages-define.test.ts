/**
 * Message definitions without a database: build validates and stamps the schema version, parse
 * upcasts through the chain and validates, each failure is a typed error naming the message and
 * never its data; filters compile to conditions or are refused, naming the bad part.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import {
  InvalidArgumentError,
  InvalidMessageError,
  UnreadableMessageError,
  defineMessage,
  isInvalidMessageError,
  isUnreadableMessageError,
  messageRegistry,
  type Message,
} from '../../src/index.ts';
import { filterCondition, quoteLiteral } from '../../src/vocabulary/condition.ts';

/** What `work` throws (failing when it returns). */
function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  return assert.fail('expected a throw');
}

const stored = (type: string, data: unknown, metadata: Message['metadata'] = null): Message => ({
  id: '00000000-0000-4000-8000-000000000000',
  streamName: 'account-1',
  type,
  position: 3,
  globalPosition: 17,
  data,
  metadata,
  time: new Date(0),
});

// Version 1 stored cents; version 2 an amount; version 3 an amount and a currency.
const Deposited = defineMessage('Deposited', z.object({ amount: z.number().positive(), currency: z.string().length(3) }), {
  schemaVersion: '3',
  upcast: {
    '1': (v1: { cents: number }) => ({ amount: v1.cents / 100 }),
    '2': (v2: { amount: number }) => ({ ...v2, currency: 'EUR' }),
  },
});

describe('build', () => {
  test('returns the type, the validated data and metadata with the schema version', () => {
    const built = Deposited.build({ amount: 5, currency: 'USD' }, { metadata: { correlationStreamName: 'x-1' } });
    assert.deepEqual(built, { type: 'Deposited', data: { amount: 5, currency: 'USD' }, metadata: { correlationStreamName: 'x-1', schemaVersion: '3' } });
  });

  test('writes the schema output (defaults applied, unknown keys stripped)', () => {
    const Opened = defineMessage('Opened', z.object({ owner: z.string(), plan: z.string().default('basic') }));
    assert.deepEqual(Opened.build({ owner: 'Ada', extra: 1 } as never).data, { owner: 'Ada', plan: 'basic' });
    assert.equal(Opened.build({ owner: 'Ada' }).metadata.schemaVersion, '1');
  });

  test('refuses invalid data with InvalidMessageError naming the type, version and paths, not the data', () => {
    const error = thrown(() => Deposited.build({ amount: -5, currency: 'secret-value' }));
    assert.ok(error instanceof InvalidMessageError);
    assert.ok(isInvalidMessageError(error));
    assert.equal(error.code, 'INVALID_MESSAGE');
    assert.equal(error.messageType, 'Deposited');
    assert.equal(error.schemaVersion, '3');
    assert.equal(error.issues.length, 2);
    assert.match(error.message, /Deposited data does not match its schema \(version 3\): 2 issues at amount, currency/);
    assert.ok(!JSON.stringify(error).includes('secret-value'), 'no data in its enumerable properties');
    assert.ok(!Object.keys(error).includes('issues'));
  });

  test('keeps a given id and refuses one that is not a UUID', () => {
    const id = '6f1c3c56-3b8e-4c1e-9d6a-1f0e2d3c4b5a';
    assert.equal(Deposited.build({ amount: 1, currency: 'EUR' }, { id }).id, id);
    assert.throws(() => Deposited.build({ amount: 1, currency: 'EUR' }, { id: 'nope' }), InvalidArgumentError);
  });

  test('with an asynchronous schema, build refuses and buildAsync validates', async () => {
    const schema = z.object({ name: z.string() }).refine(async (value) => value.name !== 'taken');
    const Registered = defineMessage('Registered', schema);
    assert.throws(() => Registered.build({ name: 'ok' }), /asynchronous: use buildAsync/);
    assert.deepEqual((await Registered.buildAsync({ name: 'ok' })).data, { name: 'ok' });
    await assert.rejects(Registered.buildAsync({ name: 'taken' }), InvalidMessageError);
  });
});

describe('parse', () => {
  test('returns current-version data validated', () => {
    assert.deepEqual(Deposited.parse(stored('Deposited', { amount: 2, currency: 'GBP' }, { schemaVersion: '3' })), { amount: 2, currency: 'GBP' });
  });

  test('upcasts version 2 once and version 1 through the whole chain', () => {
    assert.deepEqual(Deposited.parse(stored('Deposited', { amount: 2 }, { schemaVersion: '2' })), { amount: 2, currency: 'EUR' });
    assert.deepEqual(Deposited.parse(stored('Deposited', { cents: 250 }, { schemaVersion: '1' })), { amount: 2.5, currency: 'EUR' });
  });

  test('reads a message without schemaVersion as version 1, or as the definition says', () => {
    assert.deepEqual(Deposited.parse(stored('Deposited', { cents: 100 })), { amount: 1, currency: 'EUR' });
    const Legacy = defineMessage('Deposited', z.object({ amount: z.number() }), { schemaVersion: '2', unversioned: '2' });
    assert.deepEqual(Legacy.parse(stored('Deposited', { amount: 7 })), { amount: 7 });
  });

  test('compares versions as numbers: 10 is newer than 9', () => {
    const Nine = defineMessage('Nine', z.object({ n: z.number() }), { schemaVersion: '10', upcast: { '9': (old: { m: number }) => ({ n: old.m }) } });
    assert.deepEqual(Nine.parse(stored('Nine', { m: 1 }, { schemaVersion: '9' })), { n: 1 });
  });

  test('a version newer than the definition knows is an UnreadableMessageError naming the message', () => {
    const error = thrown(() => Deposited.parse(stored('Deposited', { amount: 1 }, { schemaVersion: '4' })));
    assert.ok(error instanceof UnreadableMessageError);
    assert.ok(isUnreadableMessageError(error));
    assert.equal(error.reason, 'unknown-version');
    assert.equal(error.code, 'UNREADABLE_MESSAGE');
    assert.deepEqual([error.streamName, error.position, error.globalPosition, error.messageType, error.schemaVersion], ['account-1', 3, 17, 'Deposited', '4']);
    assert.match(
      error.message,
      /^Deposited \(Stream: account-1, Position: 3, Global Position: 17, schema version 4\) cannot be read: version 4 is newer than the definition's 3$/,
    );
  });

  test('an older version without an upcast is unknown too', () => {
    assert.throws(
      () => Deposited.parse(stored('Deposited', {}, { schemaVersion: '0' })),
      (error: unknown) => isUnreadableMessageError(error) && error.reason === 'unknown-version' && /no upcast from version 0/.test(error.message),
    );
  });

  test('an upcast that throws is upcast-failed, with what it threw as the cause', () => {
    const thrown = new Error('boom');
    const Broken = defineMessage('Broken', z.object({}), {
      schemaVersion: '2',
      upcast: {
        '1': () => {
          throw thrown;
        },
      },
    });
    assert.throws(
      () => Broken.parse(stored('Broken', {})),
      (error: unknown) => isUnreadableMessageError(error) && error.reason === 'upcast-failed' && error.cause === thrown,
    );
  });

  test('data failing the schema after upcasting is invalid-data with the issues, without the data', () => {
    const error = thrown(() => Deposited.parse(stored('Deposited', { cents: 'secret-value' })));
    assert.ok(error instanceof UnreadableMessageError);
    assert.equal(error.reason, 'invalid-data');
    assert.match(error.message, /fails the schema of version 3 after upcasting: 1 issue at amount/);
    assert.ok(error.issues.length > 0);
    assert.ok(!`${error.message}${JSON.stringify(error)}`.includes('secret-value'));
  });

  test('a message of another type is refused', () => {
    assert.throws(
      () => Deposited.parse(stored('Withdrawn', {})),
      (error: unknown) => isUnreadableMessageError(error) && error.reason === 'unknown-type',
    );
  });

  test('read keeps the message and replaces its data; is tells the type', async () => {
    const message = stored('Deposited', { cents: 100 });
    const read = await Deposited.read(message);
    assert.deepEqual({ ...read, data: undefined }, { ...message, data: undefined });
    assert.deepEqual(read.data, { amount: 1, currency: 'EUR' });
    assert.ok(Deposited.is(message));
    assert.ok(!Deposited.is(stored('Other', null)));
  });

  test('apply makes an entity projection that receives the parsed data', () => {
    const project = Deposited.apply((account: { balance: number }, data, message) => {
      account.balance += data.amount;
      assert.equal(message.data, data);
    });
    const account = { balance: 0 };
    project(account, { cents: 250 }, stored('Deposited', { cents: 250 }));
    assert.equal(account.balance, 2.5);
    assert.throws(() => project(account, {}, stored('Deposited', {}, { schemaVersion: '9' })), UnreadableMessageError);
  });

  test('asynchronous upcasts work through parseAsync; parse refuses them', async () => {
    const Later = defineMessage('Later', z.object({ n: z.number() }), { schemaVersion: '2', upcast: { '1': async (old: { m: number }) => ({ n: old.m }) } });
    assert.throws(() => Later.parse(stored('Later', { m: 1 })), /asynchronous/);
    assert.deepEqual(await Later.parseAsync(stored('Later', { m: 1 })), { n: 1 });
  });
});

describe('defineMessage refuses', () => {
  test('a schema that is not a Standard Schema, an empty type, an upcast from the current version', () => {
    assert.throws(() => defineMessage('T', {} as never), /Standard Schema/);
    assert.throws(() => defineMessage('', z.object({})), InvalidArgumentError);
    assert.throws(() => defineMessage('T', z.object({}), { schemaVersion: '2', upcast: { '2': (x: never) => x } }), /upcast\.2/);
    assert.throws(() => defineMessage('T', z.object({}), { upcast: { '0': 'x' as never } }), /must be a function/);
  });
});

describe('messageRegistry', () => {
  const Withdrawn = defineMessage('Withdrawn', z.object({ amount: z.number() }));
  test('reads each known type through its definition, refuses others by default, or passes them', async () => {
    const strict = messageRegistry([Deposited, Withdrawn]);
    assert.deepEqual(strict.types, ['Deposited', 'Withdrawn']);
    assert.deepEqual((await strict.read(stored('Deposited', { cents: 100 }))).data, { amount: 1, currency: 'EUR' });
    await assert.rejects(strict.read(stored('Other', {})), (error: unknown) => isUnreadableMessageError(error) && error.reason === 'unknown-type');
    const passing = messageRegistry([Deposited], { unknown: 'pass' });
    assert.deepEqual((await passing.read(stored('Other', { x: 1 }))).data, { x: 1 });
  });

  test('refuses a type defined twice', () => {
    assert.throws(() => messageRegistry([Withdrawn, Withdrawn]), /defines Withdrawn a second time/);
  });
});

describe('filters', () => {
  test('compile types and data fields to a condition of quoted literals', () => {
    assert.equal(filterCondition({ types: ['A', 'B', 'A'] }), "type IN ('A', 'B')");
    assert.equal(
      filterCondition({ types: ["O'Brien"], data: { currency: 'EUR', n: 1, ok: true, gone: null } }),
      "type IN ('O''Brien') AND data->'currency' = '\"EUR\"'::jsonb AND data->'n' = '1'::jsonb AND data->'ok' = 'true'::jsonb AND data->'gone' = 'null'::jsonb",
    );
    assert.equal(filterCondition(undefined), null);
  });

  test('refuse what is not a filter, naming the part', () => {
    for (const [filter, argument] of [
      [{}, 'filter'],
      [{ types: [] }, 'filter.types'],
      [{ types: [''] }, 'filter.types[0]'],
      [{ types: ['A\u0000'] }, 'filter.types[0]'],
      [{ data: {} }, 'filter.data'],
      [{ data: { n: Number.NaN } }, 'filter.data.n'],
      [{ data: { o: { nested: 1 } } }, 'filter.data.o'],
      [{ type: ['A'] }, 'filter'],
      ['type = 1', 'filter'],
    ] as const) {
      assert.throws(
        () => filterCondition(filter),
        (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument,
        JSON.stringify(filter),
      );
    }
  });

  test('quoteLiteral doubles quotes, writes an escape string for backslashes, and refuses NUL and lone surrogates', () => {
    assert.equal(quoteLiteral("it's"), "'it''s'");
    assert.equal(quoteLiteral('a\\b'), "E'a\\\\b'");
    assert.equal(quoteLiteral("\\'"), "E'\\\\'''");
    assert.equal(quoteLiteral('$$'), "'$$'");
    assert.throws(() => quoteLiteral('a\u0000b'), /NUL/);
    assert.throws(() => quoteLiteral('\ud800'), /lone surrogate/);
  });
});
