/**
 * The demo's write side and store check, through the entity store: withdrawal commands decided on
 * each account's current balance by `EntityStore.handle` (several at once on a few hot accounts, so
 * some collide and are decided again), and the balances the store holds, fetched account by account
 * by a second store that starts from the snapshots the first one wrote.
 */
import { EntityStore } from '../entity/entity-store.js';
import type { MessageDbClient } from '../store/client.js';
import type { AmountData, Balances } from './demo-bank.js';

/** An account as the entity store projects it: its balance in cents. */
export interface Account {
  balance: number;
}

/** Snapshot every this many events, so the store check reads snapshots and only what follows them. */
const snapshotInterval = 20;

/** The demo's entity store of accounts in `category`. */
export function accountStore(client: MessageDbClient, category: string): EntityStore<Account> {
  return new EntityStore<Account>(client, {
    category,
    entity: () => ({ balance: 0 }),
    projection: {
      Deposited: (account, data: AmountData) => {
        account.balance += data.amount;
      },
      Withdrawn: (account, data: AmountData) => {
        account.balance -= data.amount;
      },
    },
    snapshot: { interval: snapshotInterval },
  });
}

/** What the withdrawal commands did. */
export interface CommandReport {
  commands: number;
  /** Withdrawals written (the balance covered them). */
  written: number;
  /** Withdrawals refused for want of funds (nothing written). */
  refused: number;
  /** Attempts decided again because another command wrote to the account first. */
  conflicts: number;
  seconds: number;
}

/**
 * Run `count` withdrawal commands, `concurrency` at a time, on the first `hotAccounts` accounts:
 * each withdraws a random amount if the balance covers it. Every withdrawal written is taken off
 * `ledger`, which then still says what every balance must be. `onProgress` hears each one done.
 */
export async function runWithdrawals(
  store: EntityStore<Account>,
  ledger: Balances,
  options: { count: number; hotAccounts: number; concurrency: number; random?: () => number; onProgress?: (done: number) => void },
): Promise<CommandReport> {
  const random = options.random ?? Math.random;
  const started = performance.now();
  const conflictsBefore = store.stats().conflicts;
  const report: CommandReport = { commands: options.count, written: 0, refused: 0, conflicts: 0, seconds: 0 };
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < options.count) {
      next++;
      const id = String(1 + Math.floor(random() * options.hotAccounts));
      const amount = 100 + Math.floor(random() * 5_000);
      const positions = await store.handle(id, (account) => (account.balance >= amount ? { type: 'Withdrawn', data: { amount } } : []), { retries: 50 });
      if (positions.length > 0) {
        report.written++;
        const streamName = store.streamName(id);
        ledger.set(streamName, (ledger.get(streamName) ?? 0) - amount);
      } else {
        report.refused++;
      }
      options.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  report.conflicts = store.stats().conflicts - conflictsBefore;
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** What the store check read. */
export interface StoreCheckReport {
  accounts: number;
  fromSnapshots: number;
  messagesProjected: number;
}

/**
 * The balance of every account in `streamNames`, fetched through a new entity store: what a
 * restarted process would see, starting from the snapshots.
 */
export async function storeBalances(
  client: MessageDbClient,
  category: string,
  streamNames: Iterable<string>,
): Promise<{ balances: Balances; report: StoreCheckReport }> {
  const store = accountStore(client, category);
  const balances: Balances = new Map();
  const prefix = `${category}-`;
  for (const streamName of streamNames) {
    const { entity, version } = await store.fetch(streamName.slice(prefix.length));
    if (version >= 0) balances.set(streamName, entity.balance);
  }
  const stats = store.stats();
  return { balances, report: { accounts: balances.size, fromSnapshots: stats.snapshotsRead, messagesProjected: stats.messagesProjected } };
}
