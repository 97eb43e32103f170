/**
 * `onError`'s declarative form (`{ retries: 3, afterRetries: 'dead-letter' }`) and the check of what an
 * `onError` function answers: an answer the consumer does not know is a typed error, not a stop
 * in disguise.
 */
import { InvalidArgumentError } from '../vocabulary/errors.js';
import * as validate from '../vocabulary/validate.js';

/** Every answer `onError` may give. */
const DECISIONS = ['retry', 'skip', 'stop', 'dead-letter'] as const;
/** What a policy may do once its retries are spent. */
const FINAL_DECISIONS = ['dead-letter', 'skip', 'stop'] as const;

/**
 * The common `onError` policy: retry a failed handler `retries` times (with the consumer's
 * backoff between tries), then park the message (`'dead-letter'`), pass over it (`'skip'`) or stop
 * the consumer (`'stop'`).
 */
export interface HandlerErrorPolicy {
  /** Retries after the first failure (0: none), so `retries + 1` tries in all. */
  retries: number;
  /** What to do once they are spent. (Not `then`: an object with a `then` passes for a promise.) */
  afterRetries: 'dead-letter' | 'skip' | 'stop';
}

/** The decision function a policy stands for. */
export type PolicyHook = (error: unknown, message: unknown, attempt: number) => (typeof DECISIONS)[number];

/** Check a policy, naming the first bad value, and turn it into the decision function. */
export function policyHook(policy: HandlerErrorPolicy): PolicyHook {
  const unknown = Object.keys(policy).filter((key) => key !== 'retries' && key !== 'afterRetries');
  if (unknown.length > 0) throw new InvalidArgumentError(`onError.${unknown[0]}`, 'is not an option: give { retries, afterRetries } or a function');
  const retries = validate.integer('onError.retries', policy.retries, 0, 1000);
  const final = policy.afterRetries;
  if (!(FINAL_DECISIONS as readonly unknown[]).includes(final)) {
    throw new InvalidArgumentError('onError.afterRetries', `must be 'dead-letter', 'skip' or 'stop' (got ${JSON.stringify(final) ?? String(final)})`);
  }
  return (_error, _message, attempt) => (attempt <= retries ? 'retry' : final);
}

/** An `onError` answer checked: one of the four, or an InvalidArgumentError naming what it got. */
export function checkDecision(decision: unknown, handlerError?: unknown): (typeof DECISIONS)[number] {
  if ((DECISIONS as readonly unknown[]).includes(decision)) return decision as (typeof DECISIONS)[number];
  const got = typeof decision === 'string' ? JSON.stringify(decision) : String(decision);
  throw new InvalidArgumentError('onError', `must answer 'retry', 'skip', 'stop' or 'dead-letter' (got ${got})`, { cause: handlerError });
}
