import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cardinalId, category, categoryTypes, consumerGroupMember, entityName, hash64, id, isCategory, streamName } from '../../src/index.ts';

test('hash64 matches the documented hash_64(someStream)', () => {
  assert.equal(hash64('someStream'), 2053039834977696644n);
});

test('category, id and cardinalId split on the first - and the first +', () => {
  assert.equal(category('account:command-123+abc-x'), 'account:command');
  assert.equal(id('account-123+abc-x'), '123+abc-x');
  assert.equal(cardinalId('account-123+abc'), '123');
  assert.equal(id('account'), null);
  assert.equal(cardinalId('account'), null);
  assert.equal(id('account-'), '');
  assert.equal(category('-x'), '');
});

test('isCategory is true exactly when the name has no -, the empty name included', () => {
  assert.equal(isCategory('account'), true);
  assert.equal(isCategory(''), true);
  assert.equal(isCategory('account-1'), false);
});

test('streamName builds Eventide names with types and compound ids', () => {
  assert.equal(streamName('account', '123'), 'account-123');
  assert.equal(streamName('account'), 'account');
  assert.equal(streamName('account', ['123', 'abc'], { types: ['command'] }), 'account:command-123+abc');
  assert.equal(streamName('account', null, { types: ['command', 'position'] }), 'account:command+position');
});

test('categoryTypes and entityName read a category the Eventide way', () => {
  assert.deepEqual(categoryTypes('account:command+position'), ['command', 'position']);
  assert.deepEqual(categoryTypes('account'), []);
  assert.equal(entityName('account:command'), 'account');
});

test('consumerGroupMember gives id-less streams to no member and all streams of a cardinal id to one', () => {
  assert.equal(consumerGroupMember('account', 3), null);
  const member = consumerGroupMember('account-42', 3);
  assert.ok(member !== null && member >= 0 && member < 3);
  assert.equal(consumerGroupMember('account-42+a', 3), member);
  assert.equal(consumerGroupMember('account:command-42', 3), member);
  assert.throws(() => consumerGroupMember('account-1', 0), /size/);
  assert.throws(() => consumerGroupMember('account-1', 32768), /size/);
});
