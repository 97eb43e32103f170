import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isInvalidArgumentError } from '../../src/index.ts';
import { cloneEntity, resolveEntityStoreConfig, type EntityStoreConfig } from '../../src/entity/entity-config.ts';

const base: EntityStoreConfig<{ balance: number }> = { category: 'account', entity: () => ({ balance: 0 }), projection: {} };

test('defaults: no snapshots, a cache of 10,000 entities, batches of 1000', () => {
  const resolved = resolveEntityStoreConfig(base);
  assert.equal(resolved.snapshot, null);
  assert.equal(resolved.maxEntries, 10_000);
  assert.equal(resolved.batchSize, 1000);
  assert.equal(resolveEntityStoreConfig({ ...base, cache: false }).maxEntries, 0);
});

test('snapshots are named after the category unless an entity name is given', () => {
  assert.equal(resolveEntityStoreConfig({ ...base, snapshot: { interval: 10 } }).snapshot?.entity, 'account');
  assert.equal(resolveEntityStoreConfig({ ...base, snapshot: { interval: 10, entity: 'bankAccount' } }).snapshot?.entity, 'bankAccount');
});

test('the default fromData assigns the snapshot fields to a new entity, keeping its prototype', () => {
  class Account {
    balance = 0;
    owner = '';
    get rich(): boolean {
      return this.balance > 100;
    }
  }
  const resolved = resolveEntityStoreConfig({ category: 'account', entity: () => new Account(), projection: {}, snapshot: { interval: 1 } });
  const restored = resolved.snapshot?.fromData({ balance: 500 });
  assert.ok(restored instanceof Account);
  assert.equal(restored.rich, true);
  assert.equal(restored.owner, '');
});

test('cloneEntity copies deeply and keeps the prototype of a class instance', () => {
  class Ledger {
    entries: number[] = [1];
  }
  const original = new Ledger();
  const copy = cloneEntity(original);
  copy.entries.push(2);
  assert.ok(copy instanceof Ledger);
  assert.deepEqual(original.entries, [1]);
});

test('each bad option is refused with InvalidArgumentError naming it', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...base, category: 'account-1' }, /^category must be a category/],
    [{ ...base, entity: {} }, /^entity must be a function/],
    [{ ...base, projection: [] }, /^projection must be an object/],
    [{ ...base, projection: { Deposited: 'x' } }, /^projection\.Deposited must be a function/],
    [{ ...base, snapshot: { interval: 0 } }, /^snapshot\.interval/],
    [{ ...base, snapshot: { interval: 5, entity: 'a-b' } }, /^snapshot\.entity must be a category/],
    [{ ...base, snapshot: { interval: 5, toData: 1 } }, /^snapshot\.toData must be a function/],
    [{ ...base, cache: { maxEntries: 0 } }, /^cache\.maxEntries/],
    [{ ...base, batchSize: -1 }, /^batchSize/],
    [{ ...base, copy: 'deep' }, /^copy must be a function/],
  ];
  for (const [config, message] of cases) {
    assert.throws(
      () => resolveEntityStoreConfig(config as EntityStoreConfig<unknown>),
      (error: unknown) => isInvalidArgumentError(error) && message.test(error.message),
      String(message),
    );
  }
});
