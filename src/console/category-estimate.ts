/**
 * How many messages a category holds, as the planner would guess it from the category index's
 * statistics: a most common category's share of the rows, else the rest shared evenly among the
 * other distinct categories. Shown only when a category's window of newest messages is full, and
 * labelled as an estimate.
 */
import type { MessageDbClient } from '../store/client.js';
import * as statements from './console-statements.js';

/** A category's estimated message count, or null when the index has no statistics yet. */
export type CategoryEstimator = (category: string) => number | null;

/** Read the statistics once and estimate from them. */
export async function categoryEstimator(client: MessageDbClient, signal?: AbortSignal): Promise<CategoryEstimator> {
  const [row] = await client.query(statements.categoryStatistics(), [], { readOnly: true, ...(signal === undefined ? {} : { signal }) });
  const rows = Number(row?.rows ?? Number.NaN);
  const distinct = Number(row?.n_distinct ?? Number.NaN);
  if (row === undefined || !(rows > 0) || Number.isNaN(distinct)) return () => null;
  const common = new Map<string, number>();
  const categories = row.categories === null ? [] : (JSON.parse(String(row.categories)) as string[]);
  const shares = row.shares === null ? [] : (JSON.parse(String(row.shares)) as number[]);
  for (const [index, category] of categories.entries()) common.set(category, shares[index] ?? 0);
  const commonShare = shares.reduce((sum, share) => sum + share, 0);
  // n_distinct below 0 is a share of the rows (the planner's way of saying "grows with the table").
  const distinctCount = distinct >= 0 ? distinct : -distinct * rows;
  const others = Math.max(1, distinctCount - categories.length);
  return (category) => Math.round((common.get(category) ?? Math.max(0, 1 - commonShare) / others) * rows);
}
