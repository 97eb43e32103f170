/**
 * The configuration of an EntityStore, and its checks: every value is checked when the store is
 * created, naming the option, so a mistake fails at start-up rather than at the first fetch.
 */
import { InvalidArgumentError } from '../vocabulary/errors.js';
import type { Message } from '../vocabulary/message.js';
import * as validate from '../vocabulary/validate.js';

/**
 * Applies one message to an entity: change `entity` in place, or return the new entity. A message
 * type with no function in the projection is ignored (Eventide's `apply`).
 */
// `data` is `any`: the message's parsed JSON, which a function may annotate (`data: { amount: number }`) or use as
// it is. `void`: a function declared on its own that changes the entity in place returns void, not undefined.
// biome-ignore lint/suspicious/noExplicitAny: see above
// biome-ignore lint/suspicious/noConfusingVoidType: see above
export type Projection<Entity> = (entity: Entity, data: any, message: Message) => Entity | void;

/** Message type -> the function that applies it. */
export type ProjectionMap<Entity> = Readonly<Record<string, Projection<Entity>>>;

/** Eventide-compatible snapshots of an entity store. */
export interface EntitySnapshotConfig<Entity> {
  /**
   * Write a snapshot when the version reached is at least this many messages past the last
   * snapshot (or past -1 when there is none): Eventide's snapshot `interval`.
   */
  interval: number;
  /**
   * The entity name the snapshot stream is named after: `{entity}:snapshot-{id}`. Default: the
   * store's category. Eventide names it after the entity class (`Account` -> `account`); set it to
   * share snapshots with a Ruby service whose class name differs from the category.
   */
  entity?: string;
  /** The snapshot's `entityData` for an entity. Default: the entity itself (written as JSON). */
  toData?: (entity: Entity) => unknown;
  /** The entity from a snapshot's `entityData`. Default: a new entity with the data's fields assigned to it. */
  fromData?: (entityData: unknown) => Entity;
}

/** The entity store's in-process cache. */
export interface EntityCacheConfig {
  /** The most entities kept; the least recently used goes first. Default 10,000. */
  maxEntries?: number;
}

/** Construction options of an EntityStore. */
export interface EntityStoreConfig<Entity> {
  /** The category of the entity streams (`account` reads `account-{id}`). */
  category: string;
  /** A new entity, before any message is applied (the state at version -1). */
  entity: () => Entity;
  /** The functions that apply messages, by message type. */
  projection: ProjectionMap<Entity>;
  /** Eventide snapshots; none when omitted or `false`. */
  snapshot?: EntitySnapshotConfig<Entity> | false;
  /** The in-process cache; `false` for none. Default `{ maxEntries: 10_000 }`. */
  cache?: EntityCacheConfig | false;
  /** Messages read per round trip while projecting (default 1000, as Eventide's reader). */
  batchSize?: number;
  /**
   * A copy of an entity that the projection may change without touching the original. A fetch
   * projects new messages into a copy of the cached entity, so a projection that throws midway
   * leaves the cache as it was. Default: `structuredClone`, keeping the entity's prototype.
   */
  copy?: (entity: Entity) => Entity;
  /**
   * The time a snapshot records as taken (its data's `time`), and the time of a projected entity
   * (default: the system clock). Tests pass a controlled clock (`testClock()` of
   * `messagedb/testing`) to write the same snapshots on every run.
   */
  clock?: () => Date;
}

/** A configuration checked, with defaults applied. */
export interface ResolvedEntityStoreConfig<Entity> {
  category: string;
  entity: () => Entity;
  projection: ProjectionMap<Entity>;
  snapshot: Required<EntitySnapshotConfig<Entity>> | null;
  maxEntries: number;
  batchSize: number;
  copy: (entity: Entity) => Entity;
  clock: () => Date;
}

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}

function optionalFunction<F>(argument: string, value: unknown, fallback: F): F {
  if (value === undefined) return fallback;
  if (!isFunction(value)) throw new InvalidArgumentError(argument, `must be a function (got ${typeof value})`);
  return value as F;
}

const systemClock = (): Date => new Date();

/** `structuredClone`, with the top-level prototype kept (a class instance stays one). */
export function cloneEntity<Entity>(entity: Entity): Entity {
  const copy = structuredClone(entity);
  if (typeof entity === 'object' && entity !== null) {
    const prototype = Object.getPrototypeOf(entity) as object | null;
    if (Object.getPrototypeOf(copy) !== prototype) Object.setPrototypeOf(copy, prototype);
  }
  return copy;
}

/** The default `fromData`: a new entity with the snapshot's fields assigned to it, or the data itself for a non-object entity. */
function assignTo<Entity>(newEntity: () => Entity): (entityData: unknown) => Entity {
  return (entityData) => {
    const entity = newEntity();
    if (typeof entity === 'object' && entity !== null && typeof entityData === 'object' && entityData !== null && !Array.isArray(entity)) {
      return Object.assign(entity, entityData);
    }
    return entityData as Entity;
  };
}

/** Check a configuration; throws InvalidArgumentError naming the first bad option. */
export function resolveEntityStoreConfig<Entity>(config: EntityStoreConfig<Entity>): ResolvedEntityStoreConfig<Entity> {
  if (typeof config !== 'object' || config === null) throw new InvalidArgumentError('config', 'must be an object');
  const category = validate.categoryName(config.category, 'category');
  if (!isFunction(config.entity)) throw new InvalidArgumentError('entity', `must be a function that returns a new entity (got ${typeof config.entity})`);
  const projection = config.projection;
  if (typeof projection !== 'object' || projection === null || Array.isArray(projection)) {
    throw new InvalidArgumentError('projection', 'must be an object of functions by message type');
  }
  for (const [type, apply] of Object.entries(projection)) {
    if (!isFunction(apply)) throw new InvalidArgumentError(`projection.${type}`, `must be a function (got ${typeof apply})`);
  }
  let snapshot: ResolvedEntityStoreConfig<Entity>['snapshot'] = null;
  if (config.snapshot !== undefined && config.snapshot !== false) {
    if (typeof config.snapshot !== 'object' || config.snapshot === null) throw new InvalidArgumentError('snapshot', 'must be { interval } or false');
    const interval = validate.integer('snapshot.interval', config.snapshot.interval, 1);
    const entity = config.snapshot.entity === undefined ? category : validate.categoryName(config.snapshot.entity, 'snapshot.entity');
    snapshot = {
      interval,
      entity,
      toData: optionalFunction('snapshot.toData', config.snapshot.toData, (value: Entity) => value as unknown),
      fromData: optionalFunction('snapshot.fromData', config.snapshot.fromData, assignTo(config.entity)),
    };
  }
  let maxEntries = 0;
  if (config.cache !== false) {
    if (config.cache !== undefined && (typeof config.cache !== 'object' || config.cache === null))
      throw new InvalidArgumentError('cache', 'must be { maxEntries } or false');
    maxEntries = config.cache?.maxEntries === undefined ? 10_000 : validate.integer('cache.maxEntries', config.cache.maxEntries, 1);
  }
  const batchSize = config.batchSize === undefined ? 1000 : validate.integer('batchSize', config.batchSize, 1);
  return {
    category,
    entity: config.entity,
    projection,
    snapshot,
    maxEntries,
    batchSize,
    copy: optionalFunction('copy', config.copy, cloneEntity),
    clock: optionalFunction('clock', config.clock, systemClock),
  };
}
