/**
 * Which pgbench anchor script does the same work as each of this client's workloads, and what a
 * report calls the pair. `messagedb bench` prints these rows; `npm run bench` adds the targets and
 * the peers (bench/rows.ts).
 */
import { consumerMessages } from './consumer.js';

/** A client workload's key and label, and the key of its pgbench anchor's workload. */
export interface Counterpart {
  label: string;
  client: string;
  anchor: string;
}

export const counterparts: readonly Counterpart[] = [
  { label: 'single write (1 connection)', client: 'client.single-write', anchor: 'pgbench.w_distinct' },
  { label: 'batch of 10 (writeMessages)', client: 'client.batch-10', anchor: 'pgbench.w_pipe100' },
  { label: 'batch of 100 (writeMessages)', client: 'client.batch-100', anchor: 'pgbench.w_pipe100' },
  { label: 'batch of 1000 (writeMessages)', client: 'client.batch-1000', anchor: 'pgbench.w_pipe100' },
  { label: 'transaction of 100 writeMessage calls', client: 'client.transaction-100', anchor: 'pgbench.w_txn100' },
  { label: 'stream read (1000 per call)', client: 'client.stream-read', anchor: 'pgbench.r_stream_full' },
  { label: 'category read (1000 per call)', client: 'client.category-read', anchor: 'pgbench.r_cat_full' },
  { label: `consumer throughput (${consumerMessages.toLocaleString('en-US')} seeded messages)`, client: 'client.consumer', anchor: 'pgbench.r_cat_full' },
];

/** The counterpart of the client workload `client`. */
export function counterpart(client: string): Counterpart {
  const found = counterparts.find((each) => each.client === client);
  if (found === undefined) throw new Error(`no counterpart for ${client}`);
  return found;
}
