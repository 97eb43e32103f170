import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntityCache, type EntityRecord } from '../../src/entity/entity-cache.ts';

const record = (version: number): EntityRecord<{ version: number }> => ({
  entity: { version },
  version,
  time: new Date(0),
  persistedVersion: null,
  persistedTime: null,
});

test('the cache drops the least recently used entry past maxEntries; a get counts as a use', () => {
  const cache = new EntityCache<{ version: number }>(2);
  cache.put('a', record(1));
  cache.put('b', record(1));
  assert.ok(cache.get('a'));
  cache.put('c', record(1));
  assert.equal(cache.get('b'), undefined);
  assert.ok(cache.get('a'));
  assert.ok(cache.get('c'));
  assert.equal(cache.size, 2);
});

test('a put never replaces a newer version with an older one (fetches finishing out of order)', () => {
  const cache = new EntityCache<{ version: number }>(10);
  cache.put('a', record(5));
  cache.put('a', record(3));
  assert.equal(cache.get('a')?.version, 5);
  cache.put('a', record(6));
  assert.equal(cache.get('a')?.version, 6);
});

test('an entity fetched again and again stays the most recently used; the others go first', () => {
  const cache = new EntityCache<{ version: number }>(2);
  cache.put('a', record(1));
  cache.put('b', record(1));
  for (let index = 0; index < 3; index++) assert.ok(cache.get('b'));
  cache.put('c', record(1));
  assert.equal(cache.get('a'), undefined);
  assert.ok(cache.get('b'));
  cache.delete('b');
  cache.put('d', record(1));
  assert.ok(cache.get('c'));
  assert.ok(cache.get('d'));
});
