/**
 * Names for tests that share a store: each test works in a category no other test uses, as
 * Eventide's tests do (`Controls::Category.example`), so tests need no clean-up and can run at once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidArgumentError, streamName } from '../index.js';

/**
 * A category no other test uses: `base` followed by random hex, its types kept after the colon.
 *
 * @example
 * randomCategory('account') // 'account7f3a09c2e1d4b5a6'
 * randomCategory('account:command') // 'account1c9e07d2a4b3f815:command'
 */
export function randomCategory(base = 'test'): string {
  if (typeof base !== 'string' || base === '' || base.includes('-') || base.startsWith(':')) {
    throw new InvalidArgumentError('base', `must be a category, without '-' (got ${JSON.stringify(base)})`);
  }
  const colon = base.indexOf(':');
  const random = randomBytes(8).toString('hex');
  return colon === -1 ? `${base}${random}` : `${base.slice(0, colon)}${random}${base.slice(colon)}`;
}

/** A random entity id (a UUID), as Eventide's `Controls::ID.example` for tests that share a category. */
export function randomId(): string {
  return randomUUID();
}

/**
 * A stream no other test uses: `{category}-{id}`, in a new random category unless one is given.
 *
 * @example
 * const stream = randomStreamName('account') // 'account-9b2e…' in category 'account' (only the id is random)
 * const other = randomStreamName() // 'test4be1…-0c5a…' (a random category, too)
 */
export function randomStreamName(category: string = randomCategory(), id: string = randomId()): string {
  return streamName(category, id);
}
