/**
 * Bad input is rejected before any SQL runs, with an InvalidArgumentError that names the argument,
 * and nothing is written. "Before any SQL" is proved with a closed client: had a statement been
 * attempted, the error would be ClosedError instead.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { randomInt } from 'node:crypto';
import { InvalidArgumentError, MessageDbClient, SchemaMissingError } from '../../src/index.ts';
import { createDatabase, engines, onFileEnd, randomCategory, randomStreamName } from '../support/databases.ts';

const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;
const stream = 'badinput-1';

/**
 * Text of exactly `bytes` bytes of UTF-8 that PostgreSQL cannot compress (it would compress a
 * repetitive index entry and let it fit): random CJK characters (3 bytes each) and ASCII letters.
 */
function incompressible(bytes: number): string {
  let text = '';
  for (let index = 0; index < Math.floor(bytes / 3); index++) text += String.fromCodePoint(0x4e00 + randomInt(0x5000));
  for (let index = 0; index < bytes % 3; index++) text += String.fromCharCode(0x61 + randomInt(26));
  return text;
}
/** Measured on both engines: the longest stream name and category Message DB's indexes hold (see validate.ts). */
const maxStreamNameBytes = 2684;
const maxCategoryBytes = 2676;

type Call = (client: MessageDbClient) => Promise<unknown>;
const badCalls: Array<[string, string, Call]> = [
  ['BigInt data', 'message.data.n', (c) => c.writeMessage({ streamName: stream, type: 'T', data: { n: 1n } })],
  ['cyclic data', 'message.data.self', (c) => c.writeMessage({ streamName: stream, type: 'T', data: cyclic })],
  ['a function as data', 'message.data', (c) => c.writeMessage({ streamName: stream, type: 'T', data: () => 1 })],
  ['a NUL character inside data', 'message.data.s', (c) => c.writeMessage({ streamName: stream, type: 'T', data: { s: 'a\u0000b' } })],
  ['a lone surrogate inside data', 'message.data.s', (c) => c.writeMessage({ streamName: stream, type: 'T', data: { s: 'a\ud800b' } })],
  ['NaN inside data', 'message.data.items[1].price', (c) => c.writeMessage({ streamName: stream, type: 'T', data: { items: [{ price: 1 }, { price: NaN }] } })],
  [
    'a Map inside metadata',
    'message.metadata.properties.seen',
    (c) => c.writeMessage({ streamName: stream, type: 'T', metadata: { properties: { seen: new Map() } } }),
  ],
  ['an array as metadata', 'message.metadata', (c) => c.writeMessage({ streamName: stream, type: 'T', metadata: [] as never })],
  ['a string as metadata', 'message.metadata', (c) => c.writeMessage({ streamName: stream, type: 'T', metadata: 'x' as never })],
  [
    'bad metadata in a batch',
    'messages[1].metadata.n',
    (c) =>
      c.writeMessages([
        { streamName: stream, type: 'A' },
        { streamName: stream, type: 'B', metadata: { n: Infinity } },
      ]),
  ],
  [
    'a number as correlationStreamName',
    'message.metadata.correlationStreamName',
    (c) => c.writeMessage({ streamName: stream, type: 'T', metadata: { correlationStreamName: 7 as never } }),
  ],
  ['a 4,000-character stream name', 'message.streamName', (c) => c.writeMessage({ streamName: `badinput-${incompressible(4000)}`, type: 'T' })],
  [
    'a stream name one byte over the limit',
    'message.streamName',
    (c) => c.writeMessage({ streamName: `badinput-${incompressible(maxStreamNameBytes - 9 + 1)}`, type: 'T' }),
  ],
  ['a category one byte over the limit', 'message.streamName', (c) => c.writeMessage({ streamName: `${incompressible(maxCategoryBytes + 1)}-1`, type: 'T' })],
  [
    'a correlation too long beside its category',
    'message.metadata.correlationStreamName',
    (c) => c.writeMessage({ streamName: `${incompressible(2477)}-1`, type: 'T', metadata: { correlationStreamName: `${incompressible(200)}-1` } }),
  ],
  [
    'a long stream name in a batch',
    'messages[1].streamName',
    (c) =>
      c.writeMessages([
        { streamName: stream, type: 'A' },
        { streamName: `badinput-${incompressible(4000)}`, type: 'B' },
      ]),
  ],
  ['a long stream name to read', 'streamName', (c) => c.getStreamMessages(`badinput-${incompressible(4000)}`)],
  ['a long stream name for its last message', 'streamName', (c) => c.getLastStreamMessage(`badinput-${incompressible(maxStreamNameBytes - 9 + 1)}`)],
  ['a long stream name for its version', 'streamName', (c) => c.streamVersion(`badinput-${incompressible(4000)}`)],
  ['a long category to read', 'category', (c) => c.getCategoryMessages(incompressible(maxCategoryBytes + 1))],
  ['a long category head', 'category', (c) => c.categoryHead(incompressible(4000))],
  ['a long correlation filter', 'correlation', (c) => c.getCategoryMessages('badinput', { correlation: incompressible(maxCategoryBytes + 1) })],
  ['an invalid UUID', 'message.id', (c) => c.writeMessage({ id: 'not-a-uuid', streamName: stream, type: 'T' })],
  ['an empty stream name', 'message.streamName', (c) => c.writeMessage({ streamName: '', type: 'T' })],
  ['a stream name with NUL', 'message.streamName', (c) => c.writeMessage({ streamName: 'a-\u0000', type: 'T' })],
  ['a number as stream name', 'message.streamName', (c) => c.writeMessage({ streamName: 5 as never, type: 'T' })],
  ['an empty type', 'message.type', (c) => c.writeMessage({ streamName: stream, type: '' })],
  ['an expected version below -1', 'expectedVersion', (c) => c.writeMessage({ streamName: stream, type: 'T', expectedVersion: -2 })],
  ['a fractional expected version', 'expectedVersion', (c) => c.writeMessage({ streamName: stream, type: 'T', expectedVersion: 1.5 })],
  ['an empty batch', 'messages', (c) => c.writeMessages([])],
  [
    'a batch with a bad 3rd message',
    'messages[2].type',
    (c) =>
      c.writeMessages([
        { streamName: stream, type: 'A' },
        { streamName: stream, type: 'B' },
        { streamName: stream, type: 7 as never },
      ]),
  ],
  [
    'a batch repeating an id',
    'messages',
    (c) =>
      c.writeMessages([
        { id: '00000000-0000-4000-8000-000000000001', streamName: stream, type: 'A' },
        { id: '00000000-0000-4000-8000-000000000001', streamName: stream, type: 'B' },
      ]),
  ],
  ['a category where a stream is needed', 'streamName', (c) => c.getStreamMessages('badinput')],
  ['a stream where a category is needed', 'category', (c) => c.getCategoryMessages('badinput-1')],
  ['a stream name as correlation', 'correlation', (c) => c.getCategoryMessages('badinput', { correlation: 'other-1' })],
  ['batch size 0', 'batchSize', (c) => c.getStreamMessages(stream, { batchSize: 0 })],
  ['batch size -2', 'batchSize', (c) => c.getCategoryMessages('badinput', { batchSize: -2 })],
  ['a negative position', 'position', (c) => c.getStreamMessages(stream, { position: -1 })],
  ['a position past MAX_SAFE_INTEGER', 'position', (c) => c.getCategoryMessages('badinput', { position: 2 ** 60 })],
  ['a consumer group member equal to the size', 'consumerGroup.member', (c) => c.getCategoryMessages('badinput', { consumerGroup: { member: 3, size: 3 } })],
  ['a consumer group of size 0', 'consumerGroup.size', (c) => c.getCategoryMessages('badinput', { consumerGroup: { member: 0, size: 0 } })],
  ['a consumer group larger than smallint', 'consumerGroup.size', (c) => c.getCategoryMessages('badinput', { consumerGroup: { member: 0, size: 40000 } })],
  ['a consumer group without its size', 'consumerGroup.size', (c) => c.getCategoryMessages('badinput', { consumerGroup: { member: 0 } as never })],
  ['an empty type filter', 'type', (c) => c.getLastStreamMessage(stream, { type: '' })],
  ['a non-signal as signal', 'signal', (c) => c.getStreamMessages(stream, { signal: {} as never })],
];

for (const engine of engines) {
  describe(`bad input on ${engine.name}`, () => {
    let closed: MessageDbClient;
    let open: MessageDbClient;
    before(async () => {
      closed = await engine.open();
      await closed.close();
      open = await engine.open();
    });

    for (const [what, argument, call] of badCalls) {
      test(`${what} is rejected naming ${argument}, before any SQL`, async () => {
        const error = await call(closed).catch((e: unknown) => e);
        assert.ok(error instanceof InvalidArgumentError, `got ${String(error)}`);
        assert.equal(error.argument, argument);
        assert.equal(error.code, 'INVALID_ARGUMENT');
      });
    }

    test('none of the rejected calls wrote anything', async () => {
      for (const [, , call] of badCalls) await call(open).catch(() => {});
      assert.equal(await open.categoryHead('badinput'), 0);
    });

    test('the longest stream name, category and correlation that the indexes hold are stored and read back', async () => {
      const category = randomCategory();
      const longStream = `${category}-${incompressible(maxStreamNameBytes - category.length - 1)}`;
      assert.equal(Buffer.byteLength(longStream), maxStreamNameBytes);
      const longCategory = incompressible(maxCategoryBytes);
      const besideCorrelation = `${incompressible(2476)}-1`;
      const correlationStreamName = `${incompressible(200)}-1`;
      await open.writeMessage({ streamName: longStream, type: 'T', data: { n: 1 } });
      await open.writeMessage({ streamName: longCategory, type: 'T' });
      await open.writeMessage({ streamName: besideCorrelation, type: 'T', metadata: { correlationStreamName } });
      assert.deepEqual(
        (await open.getStreamMessages(longStream)).map((m) => m.data),
        [{ n: 1 }],
      );
      assert.equal(await open.streamVersion(longCategory), 0);
      assert.equal((await open.getCategoryMessages(longCategory)).length, 1);
      assert.equal((await open.getLastStreamMessage(besideCorrelation))?.metadata?.correlationStreamName, correlationStreamName);
    });

    test('strings PostgreSQL cannot hold as jsonb are refused, while their escaped text is stored as given', async () => {
      const streamName = randomStreamName();
      const data = { literal: '\\u0000 and \\ud800 as plain text', emoji: '🚀' };
      await open.writeMessage({ streamName, type: 'T', data });
      assert.deepEqual((await open.getLastStreamMessage(streamName))?.data, data);
    });
  });
}

describe('a database without Message DB', () => {
  test('every call fails with SchemaMissingError saying how to install', async () => {
    const database = await createDatabase();
    const client = await MessageDbClient.connect(database.url);
    onFileEnd(() => client.close());
    for (const call of [
      () => client.writeMessage({ streamName: randomStreamName(), type: 'T' }),
      () => client.getCategoryMessages(randomCategory()),
      () => client.messageStoreVersion(),
    ]) {
      const error = await call().catch((e: unknown) => e);
      assert.ok(error instanceof SchemaMissingError, String(error));
      assert.match(error.message, /client\.install\(\)|messagedb install/);
    }
  });

  test('on PGlite opened without install, calls fail with SchemaMissingError', async () => {
    const client = await MessageDbClient.embedded({ install: false });
    onFileEnd(() => client.close());
    await assert.rejects(client.writeMessage({ streamName: randomStreamName(), type: 'T' }), SchemaMissingError);
    assert.equal((await client.install()).action, 'installed');
    assert.equal(await client.writeMessage({ streamName: 'after-1', type: 'T' }), 0);
  });
});
