/**
 * The demo's bank: account streams receive `Deposited` and `Withdrawn` events (amounts in cents, a
 * withdrawal never more than the balance); the writer keeps a ledger of what it wrote, a projection
 * computes balances from the events a consumer handles, and the check compares them.
 */
import type { Message, NewMessage } from '../vocabulary/message.js';

/** The data of `Deposited` and `Withdrawn`: an amount in cents. */
export interface AmountData {
  amount: number;
}

/** Balances in cents by account stream name. */
export type Balances = Map<string, number>;

/**
 * `count` events over `accounts` account streams of `category`, in the order to write them, and the
 * balances they add up to. An account's first event is a deposit.
 */
export function bankEvents(
  category: string,
  accounts: number,
  count: number,
  random: () => number = Math.random,
): { events: NewMessage<AmountData>[]; ledger: Balances } {
  const ledger: Balances = new Map();
  const events: NewMessage<AmountData>[] = [];
  for (let index = 0; index < count; index++) {
    const streamName = `${category}-${1 + Math.floor(random() * accounts)}`;
    const balance = ledger.get(streamName);
    const withdraw = balance !== undefined && balance > 0 && random() < 0.35;
    const amount = withdraw ? 1 + Math.floor(random() * balance) : 100 + Math.floor(random() * 50_000);
    ledger.set(streamName, (balance ?? 0) + (withdraw ? -amount : amount));
    events.push({ streamName, type: withdraw ? 'Withdrawn' : 'Deposited', data: { amount } });
  }
  return { events, ledger };
}

/**
 * Balances computed from handled events. Idempotent: a consumer delivers at least once (after a
 * restart it gets its last recorded message again), so an event at or before the position an
 * account has already applied is passed over, the way an Eventide projection uses the entity's version.
 */
export class BalanceProjection {
  readonly balances: Balances = new Map();
  readonly #applied = new Map<string, number>();

  apply(message: Message<AmountData>): void {
    if (message.position <= (this.#applied.get(message.streamName) ?? -1)) return;
    const sign = message.type === 'Withdrawn' ? -1 : 1;
    this.balances.set(message.streamName, (this.balances.get(message.streamName) ?? 0) + sign * message.data.amount);
    this.#applied.set(message.streamName, message.position);
  }
}

/** The outcome of comparing computed balances with the expected ones. */
export interface BalanceCheck {
  passed: boolean;
  accounts: number;
  /** Accounts whose balance differs or is missing, and accounts computed by more than one member. */
  mismatches: string[];
  totalCents: number;
}

/**
 * Compare each member's balances, merged, with `expected`. Every account must be computed by exactly
 * one member (a consumer group splits streams, it never shares one) and match to the cent.
 */
export function checkBalances(expected: Balances, members: readonly Balances[]): BalanceCheck {
  const merged: Balances = new Map();
  const mismatches: string[] = [];
  for (const balances of members) {
    for (const [account, balance] of balances) {
      if (merged.has(account)) mismatches.push(`${account} computed by two members`);
      merged.set(account, balance);
    }
  }
  for (const [account, balance] of expected) {
    const computed = merged.get(account);
    if (computed !== balance) mismatches.push(`${account}: expected ${balance}, computed ${computed ?? 'nothing'}`);
  }
  for (const account of merged.keys()) if (!expected.has(account)) mismatches.push(`${account} was not written`);
  const totalCents = [...expected.values()].reduce((sum, balance) => sum + balance, 0);
  return { passed: mismatches.length === 0, accounts: expected.size, mismatches, totalCents };
}

/** `$1,234.56`. */
export function formatCents(cents: number): string {
  return `${cents < 0 ? '-' : ''}$${(Math.abs(cents) / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
