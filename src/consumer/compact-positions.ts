/**
 * Position compaction: a consumer's position stream gains a record every `positionUpdateInterval`
 * messages and only its last one is ever read (Eventide reads the last message, whatever its type),
 * so all but the newest records can go. Deleting is safe while consumers run: each step sees one
 * snapshot, so a record written meanwhile is never deleted, and the newest record of each stream
 * always stays, so stream versions (`max(position)`) and every reader's last record are unchanged.
 */
import { clientInternals, type MessageDbClient } from '../store/client.js';
import { InvalidArgumentError, PermissionDeniedError } from '../vocabulary/errors.js';
import { toSafeInteger } from '../vocabulary/message.js';
import { fromPostgresError } from '../vocabulary/postgres-error.js';
import * as sql from '../vocabulary/sql.js';
import { categoryTypes, entityName } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';
import { positionStreamName } from './position-store.js';

/** `compactPositions` options. */
export interface CompactPositionsOptions {
  /**
   * Compact only the position streams of this category's consumers (`account` compacts
   * `account:position` and `account:position-*`); a category that is itself a position (or, with
   * `snapshots`, snapshot) category is taken as it is. Default: every position stream of the store.
   */
  category?: string;
  /** How many of each stream's newest records to keep (default 1, the least: the last record is what readers read). */
  keep?: number;
  /** Also compact entity snapshot streams (`{entity}:snapshot-{id}`), whose last record is the snapshot read. Default false. */
  snapshots?: boolean;
  /** Report what would be deleted, and delete nothing (needs no DELETE privilege). */
  dryRun?: boolean;
  /** Records read (and at most deleted) per statement, each its own short transaction (default 1000). */
  batchSize?: number;
  signal?: AbortSignal;
}

/** What one category's compaction did. */
export interface CompactedCategory {
  /** The position (or snapshot) category, e.g. `account:position`. */
  category: string;
  /** Records read. */
  scanned: number;
  /** Records deleted; in a dry run, records that would be. */
  deleted: number;
}

/** What `compactPositions` did (or, in a dry run, would do). */
export interface CompactPositionsResult {
  dryRun: boolean;
  /** Records deleted (in a dry run: that would be), over every category. */
  deleted: number;
  /** Records read, over every category. */
  scanned: number;
  /** Statements run to read and delete. */
  batches: number;
  /** Each category compacted, in name order. */
  categories: CompactedCategory[];
}

/** The categories to compact: the one asked for (as a position category), or every one of the types found in the store. */
async function targetCategories(client: MessageDbClient, category: string | undefined, snapshots: boolean, signal: AbortSignal | undefined): Promise<string[]> {
  if (category !== undefined) {
    const types = categoryTypes(category);
    if (types.includes('position') || (snapshots && types.includes('snapshot'))) return [category];
    const names = [positionStreamName(category)];
    if (snapshots) names.push(`${entityName(category)}:snapshot`);
    return names;
  }
  const { primary } = clientInternals(client);
  const rows = await primary.run(sql.categoriesOfTypes, [snapshots ? ['position', 'snapshot'] : ['position']], signal);
  return rows.map((row) => String(row[0])).sort();
}

/**
 * Delete all but the newest `keep` records of each consumer position stream (and, with `snapshots`,
 * of each entity snapshot stream), in statements of at most `batchSize` records, each its own
 * short transaction that locks only the rows it deletes. Safe while consumers run: a record written
 * meanwhile is never deleted, and the last record of each stream always stays, so its version and
 * what Eventide's readers and this package's consumers read are unchanged. Finds the streams
 * through Message DB's category index, never by reading the whole store. Walks each category up to
 * its newest record at the start.
 *
 * Needs a role that may DELETE on message_store.messages; Message DB's `message_store` role may
 * not, and gets a PermissionDeniedError before anything is read (a dry run needs no DELETE).
 * Always on the primary.
 *
 * @example
 * const { deleted } = await compactPositions(client, { category: 'account' })
 */
export async function compactPositions(client: MessageDbClient, options: CompactPositionsOptions = {}): Promise<CompactPositionsResult> {
  const category = options.category === undefined ? undefined : validate.categoryName(options.category);
  const keep = options.keep === undefined ? 1 : validate.integer('keep', options.keep, 1);
  const batchSize = options.batchSize === undefined ? 1000 : validate.integer('batchSize', options.batchSize, 1, 100_000);
  const snapshots = optionalBoolean('snapshots', options.snapshots);
  const dryRun = optionalBoolean('dryRun', options.dryRun);
  const signal = validate.signal(options.signal);
  const { primary, assertOpen } = clientInternals(client);
  assertOpen();
  if (!dryRun) {
    const [row] = await primary.run(sql.deletePrivilege, [], signal);
    if (row?.[0] !== true && row?.[0] !== 't') throw permissionDenied();
  }
  const result: CompactPositionsResult = { dryRun, deleted: 0, scanned: 0, batches: 0, categories: [] };
  for (const name of await targetCategories(client, category, snapshots, signal)) {
    const compacted: CompactedCategory = { category: name, scanned: 0, deleted: 0 };
    const head = await client.categoryHead(name, { primary: true, after: null, signal });
    let after = 0;
    while (after < head) {
      let rows: unknown[][];
      try {
        rows = await primary.run(dryRun ? sql.countCompactablePositions : sql.compactPositions, [name, after, head, batchSize, keep], signal);
      } catch (error) {
        // A role whose DELETE privilege was taken away after the check (or withheld by a policy).
        if ((fromPostgresError(error) as { code?: unknown }).code === '42501') throw permissionDenied(error);
        throw error;
      }
      result.batches++;
      const [scanned, scannedThrough, deleted] = rows[0] ?? [];
      const count = toSafeInteger(scanned, 'scanned');
      compacted.scanned += count;
      compacted.deleted += toSafeInteger(deleted, 'deleted');
      if (count === 0 || scannedThrough === null) break;
      after = toSafeInteger(scannedThrough, 'global_position');
    }
    result.scanned += compacted.scanned;
    result.deleted += compacted.deleted;
    result.categories.push(compacted);
  }
  return result;
}

function optionalBoolean(argument: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, `must be true or false (got a ${typeof value})`);
  return value;
}

function permissionDenied(cause?: unknown): PermissionDeniedError {
  return new PermissionDeniedError(
    'DELETE on message_store.messages',
    "compactPositions needs a role that may DELETE on message_store.messages (Message DB's message_store role may not): run it as the database owner, or as a maintenance role granted DELETE on that table",
    cause === undefined ? undefined : { cause },
  );
}
