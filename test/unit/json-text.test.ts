/**
 * The serialiser behind every jsonb parameter: for what it accepts, exactly JSON.stringify's text;
 * for what JSON.stringify would silently change, an InvalidArgumentError naming the value's path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/vocabulary/errors.ts';
import { MAX_JSON_DEPTH, jsonText } from '../../src/vocabulary/json-text.ts';

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? [value] : { next: value };
  return value;
};

const shared = { n: 1 };
const accepted: Array<[string, unknown]> = [
  ['numbers, strings, booleans and null', { a: 1, b: -2.5e-7, c: 1e21, d: 'x', e: true, f: null, g: [false, 0] }],
  ['escapes, control characters, emoji pairs and long strings', { s: 'quote " backslash \\ tab \t newline \n \u0001 🚀', long: `${'é'.repeat(70)}"🚀` }],
  ['text that looks like an escape', { literal: '\\u0000 and \\ud800', key: { '\\u0000': 1 } }],
  ['integer-like keys, which JSON.stringify writes first', { b: 1, 2: 'two', a: 2, 1: 'one' }],
  ['a Date, through its toJSON', { at: new Date(0) }],
  ['a toJSON result, serialised as it is', { money: { toJSON: (key: string) => ({ key, amount: 5 }) } }],
  ['an object property set to undefined, omitted as JSON.stringify omits it', { kept: 1, optional: undefined }],
  ['-0, written as 0 (JSON has no negative zero)', { zero: -0, list: [-0] }],
  ['an object without a prototype', Object.assign(Object.create(null) as object, { a: 1 })],
  ['a plain object from another realm', runInNewContext('({ a: [1, { b: 2 }] })')],
  ['one object referred to twice (not a cycle)', { first: shared, second: [shared] }],
  ['symbol keys and non-enumerable properties, which are not part of the value', Object.defineProperty({ a: 1, [Symbol('tag')]: 2 }, 'hidden', { value: 3 })],
  [
    'a getter that returns a value',
    {
      get computed() {
        return 42;
      },
    },
  ],
  [`nesting ${MAX_JSON_DEPTH} levels deep`, nested(MAX_JSON_DEPTH)],
  ['an own property named __proto__', JSON.parse('{"__proto__": {"a": 1}, "b": 2}')],
  ['a string at the top level', 'text'],
  ['an empty array and object', [[], {}]],
];

for (const [what, value] of accepted) {
  test(`${what}: the text is JSON.stringify's`, () => {
    assert.equal(jsonText('data', value), JSON.stringify(value));
  });
}

test('any JSON value serialises to exactly JSON.stringify’s text', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.equal(jsonText('data', value), JSON.stringify(value));
    }),
    { numRuns: 500 },
  );
});

test('any string without NUL or lone surrogates serialises to JSON.stringify’s text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
      fc.pre(text.isWellFormed() && !text.includes('\u0000'));
      assert.equal(jsonText('data', { [text]: text }), JSON.stringify({ [text]: text }));
    }),
    { numRuns: 500 },
  );
});

const cyclic: Record<string, unknown> = { name: 'loop' };
cyclic.self = cyclic;
const throwing = new TypeError('boom');
const refused: Array<[string, unknown, string, RegExp]> = [
  ['NaN deep inside', { items: [1, 2, 3, { price: NaN }] }, 'data.items[3].price', /must be a finite number \(got NaN\)/],
  ['Infinity', { total: Infinity }, 'data.total', /finite number \(got Infinity\)/],
  ['-Infinity at the top', -Infinity, 'data', /finite number \(got -Infinity\)/],
  ['undefined in an array', [1, undefined], 'data[1]', /must not be undefined: JSON would store null/],
  // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested.
  ['a hole in a sparse array', [1, , 3], 'data[1]', /hole in a sparse array/],
  ['a function as a property', { callback: () => 1 }, 'data.callback', /is a function: JSON cannot represent it/],
  ['a symbol as a value', { tag: Symbol('s') }, 'data.tag', /is a symbol/],
  ['a BigInt', { n: 10n }, 'data.n', /is a BigInt/],
  ['a Map', { lookup: new Map([[1, 2]]) }, 'data.lookup', /is a Map: JSON cannot represent it/],
  ['a Set', { members: new Set([1]) }, 'data.members', /is a Set/],
  ['a RegExp', [/x/], 'data[0]', /is a RegExp/],
  ['an Error', { failure: new Error('x') }, 'data.failure', /is an Error/],
  ['a typed array', { bytes: new Uint8Array(2) }, 'data.bytes', /is a Uint8Array/],
  ['a class instance', { at: new Point(1, 2) }, 'data.at', /is a Point/],
  ['a boxed number', { n: new Number(1) }, 'data.n', /is a Number/],
  ['a cycle', { root: cyclic }, 'data.root.self', /a cycle/],
  [`nesting deeper than ${MAX_JSON_DEPTH} levels`, nested(MAX_JSON_DEPTH + 1), 'data', /more than 1000 levels deep/],
  ['an invalid Date', { at: new Date(NaN) }, 'data.at', /invalid Date: JSON would store null/],
  ['a toJSON that returns undefined', { gone: { toJSON: () => undefined } }, 'data.gone', /toJSON method that returned undefined/],
  ['a toJSON that returns NaN', { n: { toJSON: () => NaN } }, 'data.n', /finite number/],
  ['a toJSON that returns a Map', { m: { toJSON: () => new Map() } }, 'data.m', /is a Map/],
  [
    'a getter that throws',
    {
      get broken(): never {
        throw throwing;
      },
    },
    'data.broken',
    /reading it threw TypeError/,
  ],
  ['a NUL character in a string', { text: 'a\u0000b' }, 'data.text', /must not contain a NUL character/],
  ['a NUL character in a key', { 'a\u0000': 1 }, 'data["a\\u0000"]', /NUL character in its key/],
  ['a lone surrogate in a string', ['ok', 'x\ud800'], 'data[1]', /well-formed Unicode \(it has a lone surrogate\)/],
  ['a lone surrogate in a long string', { text: `${'x'.repeat(100)}\udfff` }, 'data.text', /lone surrogate/],
  ['a lone surrogate in a key', { '\udc00': 1 }, 'data["\\udc00"]', /lone surrogate in its key/],
  ['a bad value under a key that is not an identifier', { 'two words': { 'a-b': NaN } }, 'data["two words"]["a-b"]', /finite/],
];

for (const [what, value, path, problem] of refused) {
  test(`${what} is refused, naming ${path}`, () => {
    assert.throws(
      () => jsonText('data', value),
      (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError, String(error));
        assert.equal(error.argument, path);
        assert.match(error.message, problem);
        assert.ok(error.message.startsWith(`${path} `), error.message);
        return true;
      },
    );
  });
}

test('a refusal caused by a throwing getter keeps the thrown error as its cause', () => {
  const error = (() => {
    try {
      jsonText('data', {
        get broken(): never {
          throw throwing;
        },
      });
    } catch (caught) {
      return caught;
    }
  })();
  assert.ok(error instanceof InvalidArgumentError);
  assert.equal(error.cause, throwing);
});
