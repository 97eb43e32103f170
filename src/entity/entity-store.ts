/**
 * EntityStore: an entity's current state, projected from its stream, through an in-process cache
 * and Eventide-compatible snapshots; and command handling that decides on that state and writes
 * with the version it decided on as the expected version, retrying when someone wrote first.
 */
import { EntityConflictError, InvalidArgumentError, ProjectionError, isExpectedVersionError } from '../vocabulary/errors.js';
import { follow, type Message, type NewMessage } from '../vocabulary/message.js';
import { streamName as buildStreamName } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';
import { backoffDelay, sleep } from '../engine/runner.js';
import type { ReadRouteOptions } from '../replica/read-router.js';
import type { MessageDbClient } from '../store/client.js';
import { EntityCache, type EntityRecord } from './entity-cache.js';
import { resolveEntityStoreConfig, type EntityStoreConfig, type ResolvedEntityStoreConfig } from './entity-config.js';
import { EntityTelemetry, type FetchFacts } from './entity-telemetry.js';
import { UnusableSnapshot, decodeSnapshot, readSnapshotMessage, snapshotStreamName, writeSnapshot } from './snapshot.js';

/** An entity and the version it was projected to (-1: its stream has no messages). */
export interface EntityFetchResult<Entity> {
  entity: Entity;
  version: number;
}

/** Options of `fetch`, `get` and `getVersion` (`primary` and `after` matter only with read replicas). */
export interface EntityFetchOptions extends ReadRouteOptions {
  signal?: AbortSignal;
}

/** A message `handle` writes to the entity's stream: a message without a stream name. */
export type EntityMessage<Data = unknown> = Omit<NewMessage<Data>, 'streamName'> & { streamName?: string };

/** What a decision returns: the messages to write (none, one, or several written atomically). */
// biome-ignore lint/suspicious/noConfusingVoidType: a decide function declared on its own that writes nothing returns void.
export type Decision = EntityMessage | readonly EntityMessage[] | null | undefined | void;

/** Decides what to write, given the entity and its version. Called again, with fresh state, after a conflict. */
export type Decide<Entity> = (entity: Entity, version: number) => Decision | Promise<Decision>;

/** Options of `handle`. */
export interface HandleOptions {
  /** Attempts after the first when the write meets a wrong expected version (default 5). */
  retries?: number;
  /** The first retry waits a random time up to this; each later one up to twice the last, at most 1 s (default 10). */
  retryDelayMs?: number;
  /** The message being handled: every message written follows it (Eventide's `follow`: causation, correlation, reply stream, properties). */
  follow?: Message;
  signal?: AbortSignal;
}

/** Running totals of one store, for tests and diagnostics. */
export interface EntityStoreStats {
  fetches: number;
  cacheHits: number;
  snapshotsRead: number;
  snapshotsWritten: number;
  snapshotWriteErrors: number;
  messagesProjected: number;
  handles: number;
  conflicts: number;
  cachedEntities: number;
}

const maxRetryDelayMs = 1000;

/**
 * Entities of one category, projected from their streams.
 *
 * @example
 * const accounts = new EntityStore(client, {
 *   category: 'account',
 *   entity: () => ({ balance: 0 }),
 *   projection: { Deposited: (account, data: { amount: number }) => { account.balance += data.amount } },
 *   snapshot: { interval: 100 },
 * })
 * const { entity, version } = await accounts.fetch('123')
 * await accounts.handle('123', (account) => (account.balance >= 10 ? { type: 'Withdrawn', data: { amount: 10 } } : []))
 */
export class EntityStore<Entity> {
  readonly #client: MessageDbClient;
  readonly #config: ResolvedEntityStoreConfig<Entity>;
  readonly #cache: EntityCache<Entity> | undefined;
  readonly #telemetry: EntityTelemetry;
  readonly #stats = { fetches: 0, cacheHits: 0, snapshotsRead: 0, snapshotsWritten: 0, snapshotWriteErrors: 0, messagesProjected: 0, handles: 0, conflicts: 0 };

  constructor(client: MessageDbClient, config: EntityStoreConfig<Entity>) {
    if (typeof client !== 'object' || client === null || typeof client.getStreamMessages !== 'function') {
      throw new InvalidArgumentError('client', 'must be a MessageDbClient');
    }
    this.#client = client;
    this.#config = resolveEntityStoreConfig(config);
    this.#cache = this.#config.maxEntries > 0 ? new EntityCache<Entity>(this.#config.maxEntries) : undefined;
    this.#telemetry = new EntityTelemetry(client.telemetry, this.#config.category);
  }

  /** The store's category. */
  get category(): string {
    return this.#config.category;
  }

  /** The entity's stream: `{category}-{id}`. */
  streamName(id: string): string {
    return buildStreamName(this.#config.category, validate.text('id', id));
  }

  /** The entity's snapshot stream (`{entity}:snapshot-{id}`), or null when the store takes no snapshots. */
  snapshotStreamName(id: string): string | null {
    const snapshot = this.#config.snapshot;
    return snapshot === null ? null : snapshotStreamName(snapshot.entity, validate.text('id', id));
  }

  /**
   * The entity with every message of its stream applied, and its version. Never null: an entity
   * whose stream has no messages is a new one (`entity()`) at version -1. Treat the entity as
   * read-only: it is the cached one.
   */
  async fetch(id: string, options: EntityFetchOptions = {}): Promise<EntityFetchResult<Entity>> {
    const record = await this.#fetchRecord(id, options);
    return record === null ? { entity: this.#config.entity(), version: -1 } : { entity: record.entity, version: record.version };
  }

  /** Like `fetch`, but null when the stream has no messages. */
  async get(id: string, options: EntityFetchOptions = {}): Promise<EntityFetchResult<Entity> | null> {
    const record = await this.#fetchRecord(id, options);
    return record === null ? null : { entity: record.entity, version: record.version };
  }

  /** The entity's version (-1 when its stream has no messages), projected as `fetch` does. */
  async getVersion(id: string, options: EntityFetchOptions = {}): Promise<number> {
    return (await this.#fetchRecord(id, options))?.version ?? -1;
  }

  /**
   * Handle a command: fetch the entity (reading on the primary), `decide`, and write what it
   * returns to the entity's stream in one atomic write, with the fetched version as the expected
   * version. When someone else wrote first, fetch again and decide again, up to `retries` times,
   * waiting a random short time between attempts; then EntityConflictError. Returns the stream
   * positions written (empty when the decision was to write nothing).
   */
  async handle(id: string, decide: Decide<Entity>, options: HandleOptions = {}): Promise<number[]> {
    const streamName = this.streamName(id);
    if (typeof decide !== 'function') throw new InvalidArgumentError('decide', `must be a function (got ${typeof decide})`);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
    const retries = options.retries === undefined ? 5 : validate.integer('retries', options.retries, 0);
    const retryDelayMs = options.retryDelayMs === undefined ? 10 : validate.integer('retryDelayMs', options.retryDelayMs, 0);
    const preceding = options.follow === undefined ? undefined : precedingMessage(options.follow);
    const signal = validate.signal(options.signal);
    this.#stats.handles++;
    return this.#telemetry.handle(streamName, async (attempt) => {
      for (;;) {
        attempt.count++;
        const record = await this.#fetchRecord(id, { primary: true, signal });
        const version = record?.version ?? -1;
        const decision = await decide(record?.entity ?? this.#config.entity(), version);
        const messages = decisionMessages(decision, streamName, preceding);
        if (messages.length === 0) return { result: [], outcome: 'nothing' };
        try {
          const positions = await this.#client.writeMessages(messages, { expectedVersion: version, signal });
          return { result: positions, outcome: 'written' };
        } catch (error) {
          if (!isExpectedVersionError(error)) throw error;
          attempt.conflicts++;
          this.#stats.conflicts++;
          if (attempt.count > retries) {
            throw new EntityConflictError(error.streamName, error.expectedVersion, error.streamVersion, attempt.count, { cause: error });
          }
          // Full jitter: writers that collided should not collide again on the same schedule.
          const delayMs = backoffDelay(attempt.count, { initialDelayMs: retryDelayMs, maxDelayMs: maxRetryDelayMs }, 'full');
          if (delayMs > 0) await sleep(delayMs, signal);
        }
      }
    });
  }

  /** Forget the cached state of one entity, or of all; the next fetch reads from a snapshot or the stream. */
  clearCache(id?: string): void {
    if (id === undefined) this.#cache?.clear();
    else this.#cache?.delete(id);
  }

  /** Running totals since the store was created. */
  stats(): EntityStoreStats {
    return { ...this.#stats, cachedEntities: this.#cache?.size ?? 0 };
  }

  #fetchRecord(id: string, options: EntityFetchOptions): Promise<EntityRecord<Entity> | null> {
    const streamName = this.streamName(id);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
    this.#stats.fetches++;
    return this.#telemetry.fetch(streamName, (facts) => this.#project(id, streamName, options, facts));
  }

  async #project(id: string, streamName: string, options: EntityFetchOptions, facts: FetchFacts): Promise<EntityRecord<Entity> | null> {
    const config = this.#config;
    const read = { signal: options.signal, primary: options.primary, after: options.after };
    let start = this.#cache?.get(id);
    if (start !== undefined) {
      facts.source = 'cache';
      this.#stats.cacheHits++;
    } else {
      start = await this.#readSnapshot(id, read);
      if (start !== undefined) facts.source = 'snapshot';
    }
    // Only the cached entity is copied (before the first change), so that a projection that throws
    // midway leaves the cached state as it was; a new or restored one is this fetch's own.
    let entity = start?.entity ?? config.entity();
    let copied = facts.source !== 'cache';
    let version = start?.version ?? -1;
    let projected = 0;
    for (;;) {
      const batch = await this.#client.getStreamMessages(streamName, {
        signal: options.signal,
        primary: options.primary,
        after: options.after,
        position: version + 1,
        batchSize: config.batchSize,
      });
      for (const message of batch) {
        const apply = config.projection[message.type];
        if (apply !== undefined && Object.hasOwn(config.projection, message.type)) {
          if (!copied) {
            entity = config.copy(entity);
            copied = true;
          }
          try {
            const returned = apply(entity, message.data, message);
            if (returned !== undefined) entity = returned;
          } catch (error) {
            throw new ProjectionError(streamName, message.position, message.type, { cause: error });
          }
        }
        version = message.position;
        projected++;
      }
      if (batch.length < config.batchSize) break;
    }
    facts.projected = projected;
    facts.version = version;
    this.#stats.messagesProjected += projected;
    if (version === -1) return null;
    if (start !== undefined && projected === 0) {
      // Restored from a snapshot with nothing after it: cache it as it is.
      if (facts.source === 'snapshot') this.#cache?.put(id, start);
      return start;
    }
    const record: EntityRecord<Entity> = {
      entity,
      version,
      time: config.clock(),
      persistedVersion: start?.persistedVersion ?? null,
      persistedTime: start?.persistedTime ?? null,
    };
    await this.#maybeSnapshot(id, record);
    this.#cache?.put(id, record);
    return record;
  }

  /** The entity as its snapshot holds it, or undefined (no snapshots, none written yet, or one that cannot be used). */
  async #readSnapshot(id: string, read: EntityFetchOptions): Promise<EntityRecord<Entity> | undefined> {
    const snapshot = this.#config.snapshot;
    if (snapshot === null) return undefined;
    const stream = snapshotStreamName(snapshot.entity, id);
    const message = await readSnapshotMessage(this.#client, stream, read);
    if (message === null) return undefined;
    const decoded = decodeSnapshot(message);
    if (decoded instanceof UnusableSnapshot) {
      this.#telemetry.snapshotIgnored(stream, decoded.reason);
      return undefined;
    }
    let entity: Entity;
    try {
      entity = snapshot.fromData(decoded.entityData);
    } catch (error) {
      this.#telemetry.snapshotIgnored(stream, `snapshot.fromData threw ${error instanceof Error ? error.name : typeof error}`);
      return undefined;
    }
    this.#stats.snapshotsRead++;
    return { entity, version: decoded.version, time: this.#config.clock(), persistedVersion: decoded.version, persistedTime: decoded.time };
  }

  /**
   * Eventide's rule: snapshot when the version is at least `interval` past the last persisted one
   * (-1 when none). A failed write is logged and counted, and the fetch goes on; the next fetch
   * that projects a message tries again.
   */
  async #maybeSnapshot(id: string, record: EntityRecord<Entity>): Promise<void> {
    const snapshot = this.#config.snapshot;
    if (snapshot === null || record.version - (record.persistedVersion ?? -1) < snapshot.interval) return;
    const stream = snapshotStreamName(snapshot.entity, id);
    const time = this.#config.clock();
    try {
      await this.#telemetry.snapshotWrite(stream, record.version, () =>
        writeSnapshot(this.#client, stream, snapshot.toData(record.entity), record.version, time),
      );
      record.persistedVersion = record.version;
      record.persistedTime = time;
      this.#stats.snapshotsWritten++;
    } catch (error) {
      this.#stats.snapshotWriteErrors++;
      this.#telemetry.snapshotWriteFailed(stream, record.version, error);
    }
  }
}

/** The `follow` option checked: a message as read from the store. */
function precedingMessage(value: unknown): Message {
  const message = value as Partial<Message> | null;
  if (
    typeof message !== 'object' ||
    message === null ||
    typeof message.streamName !== 'string' ||
    !Number.isSafeInteger(message.position) ||
    !Number.isSafeInteger(message.globalPosition)
  ) {
    throw new InvalidArgumentError('follow', 'must be a message read from the store (with streamName, position and globalPosition)');
  }
  return message as Message;
}

/** A decision as the messages to write to `streamName`; throws InvalidArgumentError for a message meant for another stream. */
function decisionMessages(decision: Decision, streamName: string, preceding: Message | undefined): NewMessage[] {
  if (decision === undefined || decision === null) return [];
  const list: readonly EntityMessage[] = Array.isArray(decision) ? decision : [decision as EntityMessage];
  return list.map((message, index) => {
    if (typeof message !== 'object' || message === null) throw new InvalidArgumentError(`decision[${index}]`, 'must be a message object ({ type, data })');
    if (message.streamName !== undefined && message.streamName !== streamName) {
      throw new InvalidArgumentError(
        `decision[${index}].streamName`,
        `must be the entity's stream ${streamName} or omitted (got ${String(message.streamName)})`,
      );
    }
    const own: NewMessage = { ...message, streamName };
    return preceding === undefined ? own : follow(preceding, own);
  });
}
