/**
 * A consumer's configuration: what the caller gives, its defaults (Eventide's: batch size 1000,
 * poll interval 100 ms, position update interval 100), and the checks that run before any SQL.
 */
import { filterCondition, type MessageFilter } from '../vocabulary/condition.js';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import type { Message } from '../vocabulary/message.js';
import type { ConsumerGroup } from '../store/read.js';
import * as validate from '../vocabulary/validate.js';
import { checkConsumerGroup } from './consumer-group.js';
import { resolveElasticConfig, type ElasticConfig, type ResolvedElasticConfig } from './elastic-config.js';
import type { HandlerError } from './consumer-errors.js';
import { policyHook, type HandlerErrorPolicy } from './dead-letter-policy.js';

/**
 * What to do about a message whose handler failed: try it again, pass over it, stop the consumer,
 * or park it in the consumer's dead-letter stream (`'dead-letter'`) and go on.
 */
export type HandlerErrorDecision = 'retry' | 'skip' | 'stop' | 'dead-letter';

/**
 * Decides what happens after a handler failed on `message`; `attempt` counts the tries so far
 * (1 after the first failure). `retry` waits with capped exponential backoff first.
 */
export type HandlerErrorHook = (error: HandlerError, message: Message, attempt: number) => HandlerErrorDecision | Promise<HandlerErrorDecision>;

/** Backoff of the consumer's retries: after a lost connection (forever) and when `onError` says `retry`. */
export interface ConsumerRetryConfig {
  /** The first wait (default 100 ms), doubled each time... */
  initialDelayMs?: number;
  /** ...up to this (default 5000 ms). */
  maxDelayMs?: number;
}

/** `new Consumer(client, config)` configuration. */
export interface ConsumerConfig {
  /** The category to read (`account`, `account:command`). */
  category: string;
  /**
   * Names the consumer's position stream (`account:position-<identifier>`). Two consumers of one
   * category need different identifiers; a consumer group member needs one.
   */
  identifier?: string;
  /** Messages per read (default 1000). */
  batchSize?: number;
  /** The wait after a read that found nothing (default 100). */
  pollIntervalMs?: number;
  /** Record the position every this many handled messages (default 100); also on idle and on stop. */
  positionUpdateInterval?: number;
  /** Read only this member's streams (the server's hash of the cardinal id). */
  consumerGroup?: ConsumerGroup;
  /** Only messages whose metadata `correlationStreamName` is in this category. */
  correlation?: string;
  /** Raw SQL condition; the client must be created with `allowCondition: true`. */
  condition?: string;
  /**
   * Ask the server only for these messages (`{ types: [...] }`, `{ data: { field: value } }`),
   * compiled to a safe condition (no `allowCondition` needed), or `'handled'`: the types the consumer
   * has handlers for when it starts (not with `onAny`, nor when iterating). The position still
   * advances over stretches of the category with nothing that matches, without passing a message
   * that does.
   */
  filter?: MessageFilter | 'handled';
  /** Messages of different streams handled at once (default 1). Order within a stream is always kept. */
  concurrency?: number;
  /** What must stay in order with concurrency above 1: each stream (default), or each cardinal id (an entity's streams together). */
  concurrencyKey?: 'streamName' | 'cardinalId';
  /** A message whose type has no handler (and no catch-all) is an error instead of being passed over. */
  strict?: boolean;
  /** Wake at once on the NOTIFY trigger's notifications (`installNotifyTrigger(client)`); polling continues. */
  listen?: boolean;
  /**
   * Read the category from the client's read replicas (default false: from the primary). The
   * position is still read and recorded on the primary, and only positions of messages the
   * replica showed are recorded; messages arrive later by the replica's lag.
   */
  readFromReplicas?: boolean;
  /**
   * Fail a handler that has not finished after this many milliseconds with a HandlerTimeoutError,
   * which goes to `onError` like any failure (default: no timeout). The handler's `context.signal`
   * is aborted then; a handler that ignores it keeps running, unwatched.
   */
  handlerTimeoutMs?: number;
  /**
   * Decides about failed handlers: a function, or a policy such as `{ retries: 3, afterRetries: 'dead-letter' }`.
   * Without it, a failed handler stops the consumer (Eventide's default). Parking needs an `identifier`.
   */
  onError?: HandlerErrorHook | HandlerErrorPolicy;
  retry?: ConsumerRetryConfig;
  /**
   * Join the elastic group of every consumer with this category and identifier, in any process:
   * the category's streams are spread over the live members and rebalanced as members come and go
   * (docs/scale-out.md). Needs an `identifier`, a PostgreSQL server (not PGlite), and no `consumerGroup`.
   */
  elastic?: boolean | ElasticConfig;
}

/** A consumer configuration with defaults applied and every value checked. */
export interface ResolvedConsumerConfig {
  category: string;
  identifier: string | undefined;
  batchSize: number;
  pollIntervalMs: number;
  positionUpdateInterval: number;
  consumerGroup: ConsumerGroup | undefined;
  correlation: string | undefined;
  condition: string | undefined;
  filter: MessageFilter | 'handled' | undefined;
  concurrency: number;
  concurrencyKey: 'streamName' | 'cardinalId';
  strict: boolean;
  listen: boolean;
  readFromReplicas: boolean;
  handlerTimeoutMs: number | undefined;
  onError: HandlerErrorHook | undefined;
  /** True when `onError` may park messages (a function, or a policy that ends in `'dead-letter'`). */
  deadLetters: boolean;
  retry: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number };
  elastic: ResolvedElasticConfig | undefined;
}

/** setTimeout's longest delay: a longer one would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

function optionalInteger(argument: string, value: unknown, min: number, fallback: number): number {
  return value === undefined ? fallback : validate.integer(argument, value, min);
}

function optionalBoolean(argument: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, `must be a boolean (got ${typeof value})`);
  return value;
}

function checkFilter(filter: MessageFilter | 'handled' | undefined, condition: unknown): MessageFilter | 'handled' | undefined {
  if (filter === undefined) return undefined;
  if (filter !== 'handled') filterCondition(filter);
  if (condition !== undefined) throw new InvalidArgumentError('filter', 'cannot be combined with a raw condition: give one or the other');
  return filter;
}

/** `onError` as a function: a policy checked and turned into one; parking needs the identifier that names the stream. */
function resolveOnError(onError: ConsumerConfig['onError'], identifier: string | undefined): HandlerErrorHook | undefined {
  if (onError === undefined || typeof onError === 'function') return onError;
  if (typeof onError !== 'object' || onError === null) throw new InvalidArgumentError('onError', 'must be a function or { retries, afterRetries }');
  const hook = policyHook(onError);
  if (onError.afterRetries === 'dead-letter' && identifier === undefined) {
    throw new InvalidArgumentError('identifier', "is needed with onError's 'dead-letter': it names the dead-letter stream");
  }
  return hook as HandlerErrorHook;
}

/** Apply defaults and check every value, naming the first bad one. */
export function resolveConsumerConfig(config: ConsumerConfig): ResolvedConsumerConfig {
  if (typeof config !== 'object' || config === null) throw new InvalidArgumentError('config', 'must be an object');
  const category = validate.categoryName(config.category);
  const identifier = config.identifier === undefined ? undefined : validate.text('identifier', config.identifier);
  const consumerGroup = checkConsumerGroup(config.consumerGroup, identifier) ?? undefined;
  const concurrencyKey = config.concurrencyKey ?? 'streamName';
  if (concurrencyKey !== 'streamName' && concurrencyKey !== 'cardinalId') {
    throw new InvalidArgumentError('concurrencyKey', `must be 'streamName' or 'cardinalId' (got ${String(concurrencyKey)})`);
  }
  const onError = resolveOnError(config.onError, identifier);
  const elastic = resolveElasticConfig(config.elastic, identifier, consumerGroup);
  const initialDelayMs = optionalInteger('retry.initialDelayMs', config.retry?.initialDelayMs, 1, 100);
  return {
    category,
    identifier,
    batchSize: optionalInteger('batchSize', config.batchSize, 1, 1000),
    pollIntervalMs: optionalInteger('pollIntervalMs', config.pollIntervalMs, 1, 100),
    positionUpdateInterval: optionalInteger('positionUpdateInterval', config.positionUpdateInterval, 1, 100),
    consumerGroup,
    correlation: config.correlation === undefined ? undefined : validate.categoryName(config.correlation, 'correlation'),
    condition: config.condition === undefined ? undefined : validate.text('condition', config.condition),
    filter: checkFilter(config.filter, config.condition),
    concurrency: optionalInteger('concurrency', config.concurrency, 1, 1),
    concurrencyKey,
    strict: optionalBoolean('strict', config.strict),
    listen: optionalBoolean('listen', config.listen),
    readFromReplicas: optionalBoolean('readFromReplicas', config.readFromReplicas),
    handlerTimeoutMs: config.handlerTimeoutMs === undefined ? undefined : validate.integer('handlerTimeoutMs', config.handlerTimeoutMs, 1, MAX_TIMER_MS),
    onError,
    deadLetters: typeof config.onError === 'function' || (onError !== undefined && (config.onError as HandlerErrorPolicy).afterRetries === 'dead-letter'),
    retry: {
      maxAttempts: Number.MAX_SAFE_INTEGER,
      initialDelayMs,
      maxDelayMs: optionalInteger('retry.maxDelayMs', config.retry?.maxDelayMs, initialDelayMs, Math.max(initialDelayMs, 5000)),
    },
    elastic,
  };
}
