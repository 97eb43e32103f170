/**
 * How tracing adds its traceparent to metadata that is already checked JSON text: into
 * `properties` when that is absent or a plain object without one, otherwise not at all, and never
 * by changing the shape of anything the caller wrote.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { withTraceparent } from '../../src/telemetry/tracing.ts';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const cases: Array<[string, string | null, unknown]> = [
  ['no metadata', null, { properties: { traceparent } }],
  ['empty metadata', '{}', { properties: { traceparent } }],
  ['metadata without properties', '{"correlationStreamName":"x-1"}', { correlationStreamName: 'x-1', properties: { traceparent } }],
  ['properties of its own', '{"properties":{"other":1}}', { properties: { other: 1, traceparent } }],
  ['a "properties" key only deeper down', '{"local":{"properties":1}}', { local: { properties: 1 }, properties: { traceparent } }],
  ['a traceparent already there', '{"properties":{"traceparent":"mine"}}', { properties: { traceparent: 'mine' } }],
  ['properties that is a string', '{"properties":"abc"}', { properties: 'abc' }],
  ['properties that is an array', '{"properties":[1,2]}', { properties: [1, 2] }],
  ['properties that is null', '{"properties":null}', { properties: null }],
];

for (const [what, metadata, expected] of cases) {
  test(`${what}: ${JSON.stringify(expected)}`, () => {
    assert.deepEqual(JSON.parse(withTraceparent(metadata, traceparent)), expected);
  });
}

test('the text is what JSON.stringify writes for the metadata with the traceparent added', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
      fc.option(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 }))),
      (metadata, properties) => {
        const value: Record<string, unknown> = properties === null ? metadata : { ...metadata, properties };
        const text = JSON.stringify(value);
        const existing = value.properties;
        const expected =
          existing === undefined
            ? { ...value, properties: { traceparent } }
            : typeof existing === 'object' && existing !== null && !Array.isArray(existing) && !Object.hasOwn(existing, 'traceparent')
              ? { ...value, properties: { ...existing, traceparent } }
              : value;
        assert.equal(withTraceparent(text, traceparent), JSON.stringify(expected));
      },
    ),
    { numRuns: 300 },
  );
});
