/**
 * The entity store's in-process cache: the newest projected state of each entity it has fetched,
 * keyed by id, dropping the least recently used entry past `maxEntries`. Eventide's cache
 * (`EntityCache`) keeps the same record and never evicts; a long-running TypeScript process that
 * sees millions of ids needs a bound.
 */

/** What the cache keeps of an entity (Eventide's `EntityCache::Record`). */
export interface EntityRecord<Entity> {
  entity: Entity;
  /** The stream position of the last message projected into `entity`. */
  version: number;
  /** When this record was made. */
  time: Date;
  /** The version the newest snapshot holds (one this store wrote or read), or null. */
  persistedVersion: number | null;
  /** When that snapshot was written, or null. */
  persistedTime: Date | null;
}

/** Least-recently-used records by id. A `Map` keeps insertion order, so re-inserting on use is the LRU order. */
export class EntityCache<Entity> {
  readonly #records = new Map<string, EntityRecord<Entity>>();
  readonly #maxEntries: number;
  /** The most recently used id: a hot entity fetched again and again is not moved to where it already is. */
  #newest: string | undefined;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#records.size;
  }

  get(id: string): EntityRecord<Entity> | undefined {
    const record = this.#records.get(id);
    if (record === undefined || id === this.#newest) return record;
    this.#records.delete(id);
    this.#records.set(id, record);
    this.#newest = id;
    return record;
  }

  /**
   * Keep `record` unless the cache holds a newer version: two fetches of one entity may finish out
   * of order, and the slower one must not put back an older state.
   */
  put(id: string, record: EntityRecord<Entity>): void {
    const cached = this.#records.get(id);
    if (cached !== undefined && cached.version > record.version) return;
    this.#records.delete(id);
    this.#records.set(id, record);
    this.#newest = id;
    if (this.#records.size > this.#maxEntries) {
      const oldest = this.#records.keys().next();
      if (oldest.done !== true) this.#records.delete(oldest.value);
    }
  }

  delete(id: string): void {
    this.#records.delete(id);
    if (id === this.#newest) this.#newest = undefined;
  }

  clear(): void {
    this.#records.clear();
    this.#newest = undefined;
  }
}
