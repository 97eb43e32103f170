/**
 * The demo's bank (pure code): the events it generates, the idempotent balance projection, and the
 * check that must fail on any wrong, missing or doubly computed balance.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BalanceProjection, bankEvents, checkBalances, formatCents } from '../../src/cli/demo-bank.ts';
import type { Message } from '../../src/index.ts';

function message(streamName: string, position: number, type: string, amount: number): Message<{ amount: number }> {
  return { id: '', streamName, type, position, globalPosition: position + 1, data: { amount }, metadata: null, time: new Date() };
}

describe('demo bank', () => {
  test('generated events never overdraw an account and add up to the ledger', () => {
    const { events, ledger } = bankEvents('account', 7, 2000);
    assert.equal(events.length, 2000);
    const balances = new Map<string, number>();
    for (const event of events) {
      const balance = (balances.get(event.streamName) ?? 0) + (event.type === 'Withdrawn' ? -1 : 1) * (event.data?.amount ?? 0);
      assert.ok(balance >= 0, `${event.streamName} overdrawn`);
      balances.set(event.streamName, balance);
    }
    assert.deepEqual(balances, ledger);
    assert.ok(events.some((event) => event.type === 'Withdrawn'));
  });

  test('the projection applies a redelivered message once', () => {
    const projection = new BalanceProjection();
    projection.apply(message('account-1', 0, 'Deposited', 500));
    projection.apply(message('account-1', 1, 'Withdrawn', 200));
    projection.apply(message('account-1', 1, 'Withdrawn', 200));
    assert.equal(projection.balances.get('account-1'), 300);
  });

  test('the check passes on equal balances and fails on a wrong, missing, extra or doubly computed one', () => {
    const expected = new Map([
      ['account-1', 100],
      ['account-2', 50],
    ]);
    assert.deepEqual(checkBalances(expected, [new Map([['account-1', 100]]), new Map([['account-2', 50]])]), {
      passed: true,
      accounts: 2,
      mismatches: [],
      totalCents: 150,
    });
    assert.equal(
      checkBalances(expected, [
        new Map([
          ['account-1', 100],
          ['account-2', 49],
        ]),
      ]).passed,
      false,
    );
    assert.equal(checkBalances(expected, [new Map([['account-1', 100]])]).passed, false);
    assert.equal(
      checkBalances(expected, [
        new Map([
          ['account-1', 100],
          ['account-2', 50],
          ['account-3', 0],
        ]),
      ]).passed,
      false,
    );
    const doubled = checkBalances(expected, [
      new Map([
        ['account-1', 100],
        ['account-2', 50],
      ]),
      new Map([['account-2', 50]]),
    ]);
    assert.deepEqual(doubled.mismatches, ['account-2 computed by two members']);
  });

  test('amounts in cents print as dollars', () => {
    assert.equal(formatCents(123456), '$1,234.56');
    assert.equal(formatCents(-5), '-$0.05');
  });
});
