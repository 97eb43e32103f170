/**
 * An elastic group's settings: how many partitions the category is split into, and how long a
 * member may go silent before the others take its partitions. Checked before any SQL runs.
 */
import type { ConsumerGroup } from '../store/read.js';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import { MAX_CONSUMER_GROUP_SIZE } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';

/** `elastic` settings of a consumer (`elastic: true` takes every default). */
export interface ElasticConfig {
  /**
   * Partitions of the category (default 8): each is member `p` of a Message DB consumer group of
   * this size, with its own position stream (`<category>:position-<identifier>-<p>`). The most
   * members that get work; every member of the group must give the same number.
   */
  partitions?: number;
  /**
   * A member whose lease session ran no statement for this long is taken to be dead or paused:
   * the others end its session and take its partitions (default 10000 ms).
   */
  leaseTimeoutMs?: number;
  /**
   * How often a member renews its lease and looks at the group (default: a fifth of the lease
   * timeout, at most 5000 ms). A join or a clean stop is rebalanced within about one interval. At
   * most 5000 ms, and keep it below the client's `idleTimeoutMs`: the client closes a connection
   * idle that long, the lease session's too, and a member whose session closes under it finds out
   * only at its next heartbeat.
   */
  heartbeatIntervalMs?: number;
}

/** Elastic settings with defaults applied. */
export interface ResolvedElasticConfig {
  partitions: number;
  leaseTimeoutMs: number;
  heartbeatIntervalMs: number;
}

/** The partitions of a group that does not say. */
export const DEFAULT_ELASTIC_PARTITIONS = 8;
/** Partition numbers stay below this, so member keys (above it) never meet them. */
export const MAX_ELASTIC_PARTITIONS = Math.min(MAX_CONSUMER_GROUP_SIZE, 1 << 16);

/** Half the client's default `idleTimeoutMs`, which would close a lease session idle between two heartbeats. */
const MAX_HEARTBEAT_INTERVAL_MS = 5000;

/** Check `elastic` against the rest of the consumer's configuration; undefined when not elastic. */
export function resolveElasticConfig(
  elastic: unknown,
  identifier: string | undefined,
  consumerGroup: ConsumerGroup | undefined,
): ResolvedElasticConfig | undefined {
  if (elastic === undefined || elastic === false) return undefined;
  if (elastic !== true && (typeof elastic !== 'object' || elastic === null)) {
    throw new InvalidArgumentError('elastic', `must be a boolean or an object of elastic settings (got ${typeof elastic})`);
  }
  if (identifier === undefined) {
    throw new InvalidArgumentError('identifier', 'is required for an elastic consumer: every member of the group gives the same one');
  }
  if (consumerGroup !== undefined) {
    throw new InvalidArgumentError('consumerGroup', 'cannot be combined with elastic: an elastic group assigns its members their streams');
  }
  const given: ElasticConfig = elastic === true ? {} : (elastic as ElasticConfig);
  const partitions =
    given.partitions === undefined ? DEFAULT_ELASTIC_PARTITIONS : validate.integer('elastic.partitions', given.partitions, 1, MAX_ELASTIC_PARTITIONS);
  const leaseTimeoutMs = given.leaseTimeoutMs === undefined ? 10_000 : validate.integer('elastic.leaseTimeoutMs', given.leaseTimeoutMs, 1000, 3_600_000);
  const heartbeatIntervalMs =
    given.heartbeatIntervalMs === undefined
      ? Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.round(leaseTimeoutMs / 5))
      : validate.integer('elastic.heartbeatIntervalMs', given.heartbeatIntervalMs, 50, Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.floor(leaseTimeoutMs / 2)));
  return { partitions, leaseTimeoutMs, heartbeatIntervalMs };
}
