/**
 * Bad input, property-based (fast-check), on PostgreSQL and PGlite: generated stream names, types,
 * ids, data and metadata (huge, deep, not serialisable, any Unicode, NUL bytes), batch sizes,
 * positions, consumer groups, correlations and SQL-looking strings in every string argument. Each
 * call either succeeds and reads back as written, or fails with a typed error; a failed call
 * writes nothing. Whether a call was refused before any SQL is told by running it first on a
 * closed client: validation is engine-independent, and a call that got past it meets ClosedError.
 * A value JSON cannot represent, anywhere in data or metadata, is refused naming its path, the same
 * with tracing on; a value it can is stored exactly as JSON.stringify writes it, traced or not.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import {
  MessageDbClient,
  category,
  consumerGroupMember,
  isCategory,
  isClosedError,
  isConditionNotEnabledError,
  isInvalidArgumentError,
  isMessageDbError,
  type Message,
  type NewMessage,
} from '../../src/index.ts';
import { adminQuery, createDatabase, engines, postgresClient, randomStreamName, testServerUrl, type TestDatabase } from '../support/databases.ts';
import { propertySize } from '../support/reliability-size.ts';

/** Strings meant to break out of a quoted SQL value, identifier or function call. */
const sqlLike = [
  "'; DROP TABLE message_store.messages; --",
  "x' OR '1'='1",
  '"; DELETE FROM message_store.messages; --',
  '$1',
  '$$',
  "' || pg_sleep(5) || '",
  "E'\\x00'",
  '%s',
  '%I',
  ');SELECT pg_terminate_backend(pg_backend_pid());--',
  '/*',
  '*/',
  '--',
  '\\',
  '\\u0000',
  '\\\\u0000',
  "a-'b",
  'a-b);DROP SCHEMA message_store CASCADE;--',
  'NULL',
  'messages.position >= 0) OR (true',
];
const awkward = ['', ' ', '-', '--', 'a-', '-a', '+', 'a-+', '\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\u2028', '\uffff', '🚀-🚀', 'é-ü', 'x'.repeat(10_000)];

const anyString = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom(...sqlLike, ...awkward));
const notAString = fc.constantFrom<unknown>(undefined, null, 7, true, {}, [], 10n, Symbol('s'), () => 'x');
/** A stream name: mostly `category-id` made of any strings, sometimes anything at all. */
const streamNameArb = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(anyString, anyString).map(([c, i]) => `${c}-${i}`) },
  { weight: 2, arbitrary: anyString },
  { weight: 1, arbitrary: notAString },
);
const categoryArb = fc.oneof(
  { weight: 6, arbitrary: anyString.map((s) => s.replaceAll('-', '')) },
  { weight: 2, arbitrary: anyString },
  { weight: 1, arbitrary: notAString },
);

const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;
/** `value`, shown by fast-check as `name` (a counterexample too deep or big to print otherwise). */
const named = <T extends object>(name: string, value: T): T => Object.assign(value, { [fc.toStringMethod]: () => name });
const deep = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let index = 0; index < depth; index++) value = index % 2 === 0 ? [value] : { next: value };
  return named(`deep(${depth})`, value as object);
};
const unusual = fc.constantFrom<unknown>(
  10n,
  () => 1,
  Symbol('s'),
  cyclic,
  new Date(0),
  new Map([[1, 2]]),
  { toJSON: () => undefined },
  { toJSON: () => 'replaced' },
  NaN,
  -0,
  Infinity,
  undefined,
  named('{ s: 2 MB }', { s: 'x'.repeat(2_000_000) }),
  deep(1000),
  deep(50_000),
  { key: 'a\u0000' },
  { 'a\u0000': 1 },
  ['\ud83d'],
);
const dataArb = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 3, arbitrary: fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 }) },
  { weight: 2, arbitrary: unusual },
  { weight: 1, arbitrary: fc.dictionary(anyString, anyString) },
);
const metadataArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(undefined, null) },
  { weight: 4, arbitrary: fc.dictionary(anyString, fc.jsonValue({ stringUnit: 'binary', maxDepth: 2 }), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.record({ correlationStreamName: streamNameArb }) },
  { weight: 2, arbitrary: fc.oneof(unusual, fc.jsonValue({ maxDepth: 1 }), anyString) },
);
const idArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.uuid().map((id) => id.toUpperCase()) },
  { weight: 2, arbitrary: fc.oneof(anyString, notAString) },
);
const typeArb = fc.oneof({ weight: 8, arbitrary: anyString }, { weight: 1, arbitrary: notAString });
const integerish = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 5000 }) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(undefined, null, -1, 0, 1.5, NaN, Infinity, 2 ** 53, 2 ** 53 - 1, 2 ** 62, '10', 10n) },
);
/** An expected version: mostly none or -1 (a new stream), so that many writes get through. */
const expectedVersionArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constant(-1) },
  { weight: 2, arbitrary: integerish },
);
const messageArb = fc.record(
  { id: idArb, streamName: streamNameArb, type: typeArb, data: dataArb, metadata: metadataArb },
  { requiredKeys: ['streamName', 'type'] },
);

/**
 * The test's own statement of what JSON cannot represent faithfully: the path (after `path`) of the
 * first such value, or undefined. Omitted object properties set to undefined and -0 (stored as 0)
 * are accepted on purpose (see json-text.ts).
 */
function unrepresentable(value: unknown, path = '', ancestors: object[] = [], key = '', converted = false): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed() ? path : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (typeof value === 'boolean' || value === null) return undefined;
  if (typeof value !== 'object') return path;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (!converted && typeof toJSON === 'function') {
    const result: unknown = toJSON.call(value, key);
    if (result === undefined || (result === null && value instanceof Date)) return path;
    return unrepresentable(result, path, ancestors, key, true);
  }
  if (ancestors.includes(value)) return path;
  if (ancestors.length >= 1000) return '';
  const inside = [...ancestors, value];
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (value[index] === undefined) return `${path}[${index}]`;
      const found = unrepresentable(value[index], `${path}[${index}]`, inside, String(index));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return path;
  for (const [name, item] of Object.entries(value)) {
    const itemPath = `${path}${segment(name)}`;
    if (name.includes('\u0000') || !name.isWellFormed()) return itemPath;
    if (item === undefined) continue;
    const found = unrepresentable(item, itemPath, inside, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** How a refusal names a property: `.name`, or `["other name"]`. */
const segment = (name: string): string => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`);

class Money {
  constructor(readonly amount: number) {}
}
const loop: Record<string, unknown> = {};
loop.self = loop;
/** Values JSON cannot represent, each with the path below it that a refusal names (null: the whole value). */
const notJson: Array<[string, () => unknown, string | null]> = [
  ['NaN', () => NaN, ''],
  ['Infinity', () => Infinity, ''],
  ['-Infinity', () => -Infinity, ''],
  ['a BigInt', () => 10n, ''],
  ['a symbol', () => Symbol('s'), ''],
  ['a function', () => () => 1, ''],
  ['a Map', () => new Map([[1, 2]]), ''],
  ['a Set', () => new Set([1]), ''],
  ['a RegExp', () => /x/, ''],
  ['an Error', () => new Error('x'), ''],
  ['a typed array', () => new Float64Array(2), ''],
  ['an invalid Date', () => new Date(NaN), ''],
  ['a class instance', () => new Money(5), ''],
  ['a boxed number', () => new Number(1), ''],
  ['a toJSON giving undefined', () => ({ toJSON: () => undefined }), ''],
  ['a NUL character', () => 'a\u0000b', ''],
  ['a lone surrogate', () => 'x\udc00', ''],
  ['undefined in an array', () => [1, undefined], '[1]'],
  // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested.
  ['a hole', () => [1, , 2], '[1]'],
  ['a cycle', () => loop, '.self'],
  ['a key with NUL', () => ({ 'k\u0000': 1 }), '["k\\u0000"]'],
  ['nesting over 1000 levels', () => deep(1001), null],
];
const keyArb = fc.oneof(fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,6}$/), fc.constantFrom('two words', 'a-b', '1', '', 'é'));
type Step = { key: string } | { index: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  keyArb.map((key) => ({ key })),
  fc.nat(3).map((index) => ({ index })),
);
const fillerArb = fc.jsonValue({ maxDepth: 1 });
/** A bad value placed at a generated path inside valid JSON, with the path a refusal must name. */
const placedArb = fc
  .record({
    bad: fc.constantFrom(...notJson),
    steps: fc.array(stepArb, { maxLength: 4 }),
    fillers: fc.array(fillerArb, { minLength: 8, maxLength: 8 }),
    keyed: fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fillerArb, { maxKeys: 3 }),
  })
  .map(({ bad: [what, make, below], steps, fillers, keyed }) => {
    let value = make();
    for (const step of [...steps].reverse()) {
      value = 'key' in step ? { ...keyed, [step.key]: value } : [...fillers.slice(0, step.index), value, ...fillers.slice(step.index, step.index + 2)];
    }
    const path = steps.map((step) => ('key' in step ? segment(step.key) : `[${step.index}]`)).join('');
    return { what, value, path: below === null ? null : `${path}${below}`, steps };
  });

/** What a value reads back as: its JSON round trip, and SQL NULL for nothing. */
function jsonRoundTrip(value: unknown): unknown {
  const text = value === undefined ? undefined : JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

/** The stored message at `position` of `streamName` (a category-like name is read through its category). */
async function readBack(client: MessageDbClient, streamName: string, position: number): Promise<Message | undefined> {
  if (isCategory(streamName)) {
    const all = await client.getCategoryMessages(streamName, { batchSize: -1 });
    return all.find((message) => message.streamName === streamName && message.position === position);
  }
  return (await client.getStreamMessages(streamName, { position, batchSize: 1 }))[0];
}

/** Stream versions of the names a call would write to (those that are writable strings at all). */
async function versions(client: MessageDbClient, names: unknown[]): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for (const name of names) {
    if (typeof name === 'string' && name !== '' && !name.includes('\u0000') && name.isWellFormed() && Buffer.byteLength(name) <= 2684) {
      result.set(name, await client.streamVersion(name));
    }
  }
  return result;
}

/**
 * Run `call` on the closed client, then on the open one: refused before SQL (the same typed error
 * on both), or past validation and then either a success or a typed error.
 */
async function classify<T>(
  closed: MessageDbClient,
  open: MessageDbClient,
  call: (client: MessageDbClient) => Promise<T>,
): Promise<{ refused: true; error: unknown } | { refused: false; result?: T; error?: unknown }> {
  const early = await Promise.resolve()
    .then(() => call(closed))
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  assert.ok(early !== undefined, 'a closed client never succeeds');
  assert.ok(isMessageDbError(early), `a typed error, not ${String(early)}`);
  const late = await Promise.resolve()
    .then(() => call(open))
    .then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
  if (!isClosedError(early)) {
    assert.ok('error' in late, 'a call refused before SQL is refused on the open client too');
    assert.equal((late.error as Error).message, (early as Error).message);
    return { refused: true, error: late.error };
  }
  if ('error' in late) assert.ok(isMessageDbError(late.error), `a typed error, not ${String(late.error)}: ${(late.error as Error)?.stack}`);
  return { refused: false, ...late };
}

/** Spans with valid trace context, so that every traced write adds a traceparent to its metadata. */
const tracer = new BasicTracerProvider().getTracer('bad-input');
let closed: MessageDbClient;
let closedTraced: MessageDbClient;
before(async () => {
  closed = await MessageDbClient.connect(testServerUrl());
  await closed.close();
  closedTraced = await MessageDbClient.connect({ connectionString: testServerUrl(), tracing: tracer });
  await closedTraced.close();
});

/** Values JSON represents as they are, and those it keeps on purpose: Dates and toJSON, -0, properties set to undefined. */
const validArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 1 }),
    fc.constantFrom<unknown>(-0, { toJSON: () => ({ converted: true }) }, Object.assign(Object.create(null) as object, { bare: 1 })),
    fc.date({ noInvalidDate: true }),
    tie('object'),
    tie('array'),
  ),
  object: fc.dictionary(keyArb, fc.option(tie('value'), { nil: undefined }), { maxKeys: 4 }),
  array: fc.array(tie('value'), { maxLength: 3 }),
})).value;
/** Metadata, with every shape of `properties` that tracing must handle. */
const validMetadataArb = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, { toJSON: () => ({ fromToJSON: 1 }) }) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), validArb, { maxKeys: 3 }),
        fc.option(
          fc.oneof(fc.dictionary(keyArb, validArb, { maxKeys: 2 }), fc.constantFrom<unknown>('abc', [1, 2], null, new Date(0), { traceparent: 'mine' })),
          { nil: undefined },
        ),
      )
      .map(([rest, properties]) => (properties === undefined ? rest : { ...rest, properties })),
  },
);

/** Stored metadata of a traced write: the untraced one with the write span's traceparent in `properties`, when those are absent or a plain object without one. */
function withTraceparent(untraced: unknown, stored: unknown): unknown {
  const traceparent = (stored as { properties?: { traceparent?: unknown } } | null)?.properties?.traceparent;
  const add = (): string => {
    assert.match(String(traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/, "the write span's traceparent");
    return traceparent as string;
  };
  if (untraced === null) return { properties: { traceparent: add() } };
  const metadata = untraced as Record<string, unknown>;
  const properties = metadata.properties;
  if (properties === undefined) return { ...metadata, properties: { traceparent: add() } };
  if (typeof properties === 'object' && properties !== null && !Array.isArray(properties) && !('traceparent' in properties)) {
    return { ...metadata, properties: { ...properties, traceparent: add() } };
  }
  return metadata;
}

for (const engine of engines) {
  describe(`generated input on ${engine.name}`, () => {
    let client: MessageDbClient;
    let traced: MessageDbClient;
    let database: TestDatabase | undefined;
    let messagesWritten = 0;
    before(async () => {
      if (engine.name === 'postgres') {
        database = await createDatabase();
        client = await postgresClient({}, database);
        traced = await postgresClient({ tracing: tracer }, database);
      } else {
        client = await engine.open();
        traced = await engine.open({ tracing: tracer });
      }
    });

    test('writeMessage: a success reads back exactly as written; a failure is typed and writes nothing', async (t) => {
      const outcomes = { refusedBeforeSql: 0, failedOnServer: 0, written: 0 };
      await fc.assert(
        fc.asyncProperty(messageArb, expectedVersionArb, async (message, expectedVersion) => {
          const input = { ...message, expectedVersion } as never;
          const before = await versions(client, [message.streamName]);
          const outcome = await classify(closed, client, (c) => c.writeMessage(input));
          if (outcome.refused || outcome.error !== undefined) {
            outcomes[outcome.refused ? 'refusedBeforeSql' : 'failedOnServer']++;
            assert.deepEqual(await versions(client, [message.streamName]), before, 'a failed write wrote nothing');
            return;
          }
          outcomes.written++;
          messagesWritten++;
          assert.equal(message.data === undefined ? undefined : unrepresentable(message.data), undefined, 'no data JSON would change is written');
          assert.equal(
            message.metadata === undefined || message.metadata === null ? undefined : unrepresentable(message.metadata),
            undefined,
            'no metadata JSON would change is written',
          );
          const position = outcome.result as number;
          const stored = await readBack(client, message.streamName as string, position);
          assert.ok(stored !== undefined, 'the message is stored at the position returned');
          if (typeof message.id === 'string') assert.equal(stored.id, message.id.toLowerCase());
          assert.equal(stored.type, message.type);
          assert.deepEqual(stored.data, jsonRoundTrip(message.data));
          assert.deepEqual(stored.metadata, jsonRoundTrip(message.metadata));
          assert.ok(
            stored.metadata === null || (typeof stored.metadata === 'object' && !Array.isArray(stored.metadata)),
            'metadata reads back as an object or null',
          );
          assert.equal(position, (before.get(message.streamName as string) ?? -1) + 1);
        }),
        { numRuns: propertySize.runs * 3, includeErrorInReport: true },
      );
      t.diagnostic(`writeMessage outcomes: ${JSON.stringify(outcomes)}`);
      assert.ok(outcomes.written > 0 && outcomes.refusedBeforeSql > 0 && outcomes.failedOnServer > 0, 'the generated calls cover all three outcomes');
    });

    test('writeMessages: a batch is stored whole at the positions returned, or fails typed and writes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.array(messageArb, { maxLength: 5 }), notAString), expectedVersionArb, async (messages, expectedVersion) => {
          const names = Array.isArray(messages) ? messages.map((m) => (m as { streamName: unknown }).streamName) : [];
          const before = await versions(client, names);
          const outcome = await classify(closed, client, (c) => c.writeMessages(messages as NewMessage[], { expectedVersion } as never));
          if (outcome.refused || outcome.error !== undefined) {
            assert.deepEqual(await versions(client, names), before, 'a failed batch wrote nothing');
            return;
          }
          const list = messages as Array<{ streamName: string; type: string; data?: unknown; metadata?: unknown }>;
          messagesWritten += list.length;
          const positions = outcome.result as number[];
          assert.equal(positions.length, list.length);
          for (const [index, message] of list.entries()) {
            assert.equal(message.data === undefined ? undefined : unrepresentable(message.data), undefined, 'no data JSON would change is written');
            assert.equal(
              message.metadata === undefined || message.metadata === null ? undefined : unrepresentable(message.metadata),
              undefined,
              'no metadata JSON would change is written',
            );
            const stored = await readBack(client, message.streamName, positions[index] as number);
            assert.ok(stored !== undefined, `message ${index} is stored at the position returned`);
            assert.equal(stored.type, message.type);
            assert.deepEqual(stored.data, jsonRoundTrip(message.data));
            assert.deepEqual(stored.metadata, jsonRoundTrip(message.metadata));
          }
        }),
        { numRuns: propertySize.runs * 2, includeErrorInReport: true },
      );
    });

    test('reads: results honour every option, or the call fails typed; a condition is always refused', async () => {
      const groupArb = fc.oneof(
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 3, arbitrary: fc.record({ member: integerish, size: integerish }) },
        { weight: 1, arbitrary: fc.constantFrom<unknown>(null, {}, 'x', { member: 0 }, { size: 2 }, [0, 1]) },
      );
      const readArb = fc.record({
        streamName: streamNameArb,
        category: categoryArb,
        position: integerish,
        batchSize: integerish,
        correlation: fc.oneof(fc.constant(undefined), categoryArb),
        consumerGroup: groupArb,
        type: fc.oneof(fc.constant(undefined), typeArb),
        condition: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(anyString, fc.constantFrom(...sqlLike)) }),
      });
      await fc.assert(
        fc.asyncProperty(readArb, async (read) => {
          const { streamName, position, batchSize } = read as { streamName: string; position: number; batchSize: number };
          const categoryName = read.category as string;
          const limit = (count: number): void => assert.ok(batchSize === -1 || batchSize === undefined || count <= batchSize, 'no more than batchSize');

          const stream = await classify(closed, client, (c) => c.getStreamMessages(streamName, { position, batchSize, condition: read.condition } as never));
          if (read.condition !== undefined) {
            assert.ok(stream.refused, 'a condition never reaches SQL on a client that does not allow it');
            assert.ok(isConditionNotEnabledError(stream.error) || isInvalidArgumentError(stream.error), String(stream.error));
          }
          if (!stream.refused && stream.error === undefined) {
            const messages = stream.result as Message[];
            limit(messages.length);
            messages.forEach((message, index) => {
              assert.equal(message.streamName, streamName);
              assert.equal(message.position, (position ?? 0) + index, 'positions from the one asked for, in order, no gaps');
            });
          }

          const options = { position, batchSize, correlation: read.correlation, consumerGroup: read.consumerGroup };
          const fromCategory = await classify(closed, client, (c) => c.getCategoryMessages(categoryName, options as never));
          if (!fromCategory.refused && fromCategory.error === undefined) {
            const messages = fromCategory.result as Message[];
            limit(messages.length);
            let previous = 0;
            for (const message of messages) {
              assert.equal(category(message.streamName), categoryName);
              assert.ok(message.globalPosition >= (position ?? 1) && message.globalPosition > previous, 'global positions from the one asked for, ascending');
              previous = message.globalPosition;
              if (typeof read.correlation === 'string') assert.equal(category(String(message.metadata?.correlationStreamName)), read.correlation);
              const group = read.consumerGroup as { member: number; size: number } | null | undefined;
              if (group !== undefined && group !== null) assert.equal(consumerGroupMember(message.streamName, group.size), group.member);
            }
          }

          const last = await classify(closed, client, (c) => c.getLastStreamMessage(streamName, { type: read.type } as never));
          if (!last.refused && last.error === undefined && last.result !== null) {
            const message = last.result as Message;
            assert.equal(message.streamName, streamName);
            if (read.type === undefined) assert.equal(message.position, await client.streamVersion(streamName));
            else assert.equal(message.type, read.type);
          }
          await classify(closed, client, (c) => c.categoryHead(categoryName));
        }),
        { numRuns: propertySize.runs * 2, includeErrorInReport: true },
      );
    });

    test('a value JSON cannot represent, anywhere in data or metadata, is refused naming its path, traced or not, and nothing is written', async () => {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(placedArb, fc.constantFrom('data', 'metadata'), fc.nat(2), fc.boolean(), async (placed, field, index, batch) => {
          let { value, path } = placed;
          // Metadata must be an object: put the value under a key when it is not already under one.
          if (field === 'metadata' && !('key' in (placed.steps[0] ?? { index: 0 }))) {
            value = { meta: value };
            path = path === null ? null : `.meta${path}`;
          }
          seen.add(placed.what);
          const streamName = randomStreamName();
          const message = { streamName, type: 'Bad', [field]: value };
          const argument = `${batch ? `messages[${index}]` : 'message'}.${field}${path ?? ''}`;
          const call = (c: MessageDbClient): Promise<unknown> =>
            batch
              ? c.writeMessages([
                  ...Array.from({ length: index }, () => ({ streamName, type: 'Fine', data: { ok: true } })),
                  message,
                  { streamName, type: 'After' },
                ])
              : c.writeMessage(message);
          const refusals: string[] = [];
          for (const [closedClient, openClient] of [
            [closed, client],
            [closedTraced, traced],
          ] as const) {
            const outcome = await classify(closedClient, openClient, call);
            assert.ok(outcome.refused, `${placed.what} is refused before any SQL (${String(outcome.error ?? 'written')})`);
            assert.ok(isInvalidArgumentError(outcome.error), String(outcome.error));
            assert.equal(outcome.error.argument, argument, outcome.error.message);
            refusals.push(outcome.error.message);
            assert.equal(await openClient.streamVersion(streamName), -1, 'nothing is written');
          }
          assert.equal(refusals[1], refusals[0], 'a traced write is refused exactly as an untraced one');
        }),
        { numRuns: propertySize.runs * 2, includeErrorInReport: true },
      );
      assert.equal(seen.size, notJson.length, 'every kind of value was tried');
    });

    test('any value JSON represents is stored as JSON.stringify writes it, traced or not; tracing only adds its traceparent', async () => {
      await fc.assert(
        fc.asyncProperty(fc.option(validArb, { nil: undefined }), validMetadataArb, async (data, metadata) => {
          assert.equal(data === undefined ? undefined : unrepresentable(data), undefined, 'the generator makes representable data');
          const stored = [];
          for (const writer of [client, traced]) {
            const streamName = randomStreamName();
            await writer.writeMessage({ streamName, type: 'Valid', data, metadata: metadata as never });
            messagesWritten++;
            stored.push(await readBack(writer, streamName, 0));
          }
          const [plain, withTrace] = stored;
          assert.ok(plain !== undefined && withTrace !== undefined);
          assert.deepEqual(plain.data, jsonRoundTrip(data));
          assert.deepEqual(withTrace.data, plain.data, 'traced data is stored as untraced data');
          assert.deepEqual(plain.metadata, jsonRoundTrip(metadata));
          assert.deepEqual(withTrace.metadata, withTraceparent(plain.metadata, withTrace.metadata));
        }),
        { numRuns: propertySize.runs, includeErrorInReport: true },
      );
    });

    test('metadata that serialises to something other than an object (a Date, a toJSON) is refused before SQL', async () => {
      for (const metadata of [new Date(0), { toJSON: () => 'replaced' }, { toJSON: () => [1] }]) {
        const outcome = await classify(closed, client, (c) => c.writeMessage({ streamName: 'metadata-1', type: 'T', metadata: metadata as never }));
        assert.ok(outcome.refused && isInvalidArgumentError(outcome.error) && outcome.error.argument === 'message.metadata', String(outcome.error));
      }
    });

    test('after every generated call, Message DB is intact and works', async () => {
      assert.equal(await client.messageStoreVersion(), '1.3.0');
      const streamName = `afterwards${engine.name}-1`;
      assert.equal(await client.writeMessage({ streamName, type: 'Checked', data: { sqlLike } }), 0);
      messagesWritten++;
      assert.deepEqual((await client.getLastStreamMessage(streamName))?.data, { sqlLike });
    });

    if (engine.name === 'postgres') {
      test('after every generated call, the store holds exactly the messages of the calls that succeeded', async () => {
        const [row] = await adminQuery<{ count: number }>('SELECT count(*)::int AS count FROM message_store.messages', [], database?.url);
        assert.equal(row?.count, messagesWritten);
      });
    }
  });
}
