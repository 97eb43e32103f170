import type { Workload } from './measure.ts';

/**
 * The rows of the report: which client workload is compared with which pgbench anchor and which
 * peer workloads, and the target ratio each comparison has to reach (issues 2 and 6).
 */

/** The peers the client is compared with, by the key prefix of their workloads. */
export const peers = [
  { key: 'pg', label: 'hand-written pg' },
  { key: 'msc', label: '@doughtnerd/message-store-connector' },
  { key: 'mdbc', label: 'message-db-connector' },
  { key: 'emmett', label: 'Emmett PostgreSQL' },
] as const;

export type PeerKey = (typeof peers)[number]['key'];

export interface Row {
  label: string;
  /** The client's workload key. */
  client: string;
  /** The pgbench anchor's workload key, and the ratio client/anchor must reach. */
  anchor?: { key: string; target?: number };
  /** Each peer's workload key for the same work, and the ratio client/peer must reach. */
  peers?: Partial<Record<PeerKey, { key: string; target?: number }>>;
}

export const rows: Row[] = [
  {
    label: 'single write (1 connection)',
    client: 'client.single-write',
    anchor: { key: 'pgbench.w_distinct', target: 0.9 },
    peers: {
      pg: { key: 'pg.single-write', target: 1.0 },
      msc: { key: 'msc.single-write', target: 1.0 },
      mdbc: { key: 'mdbc.single-write', target: 1.0 },
      emmett: { key: 'emmett.single-write', target: 1.0 },
    },
  },
  {
    // Issue 5: metrics and tracing on must cost under 5% of single-write throughput. The "anchor"
    // here is this client with telemetry off, measured in the same slices.
    label: 'single write, metrics + tracing on (vs. off)',
    client: 'client.single-write-telemetry',
    anchor: { key: 'client.single-write', target: 0.95 },
  },
  {
    label: 'batch of 100 (writeMessages)',
    client: 'client.batch-100',
    anchor: { key: 'pgbench.w_pipe100', target: 0.85 },
    peers: {
      pg: { key: 'pg.transaction-100', target: 2.5 },
      msc: { key: 'msc.batch-100' },
      emmett: { key: 'emmett.batch-100' },
    },
  },
  { label: 'batch of 10 (writeMessages)', client: 'client.batch-10', anchor: { key: 'pgbench.w_pipe100' } },
  { label: 'batch of 1000 (writeMessages)', client: 'client.batch-1000', anchor: { key: 'pgbench.w_pipe100' } },
  {
    label: 'transaction of 100 writeMessage calls',
    client: 'client.transaction-100',
    anchor: { key: 'pgbench.w_txn100' },
    peers: { pg: { key: 'pg.transaction-100' } },
  },
  {
    label: 'stream read (1000 per call)',
    client: 'client.stream-read',
    anchor: { key: 'pgbench.r_stream_full' },
    peers: {
      pg: { key: 'pg.stream-read' },
      msc: { key: 'msc.stream-read' },
      mdbc: { key: 'mdbc.stream-read' },
      emmett: { key: 'emmett.stream-read' },
    },
  },
  {
    label: 'category read (1000 per call)',
    client: 'client.category-read',
    anchor: { key: 'pgbench.r_cat_full', target: 0.5 },
    peers: {
      pg: { key: 'pg.category-read', target: 1.5 },
      msc: { key: 'msc.category-read', target: 1.5 },
      mdbc: { key: 'mdbc.category-read', target: 1.5 },
      emmett: { key: 'emmett.category-read', target: 1.5 },
    },
  },
  {
    label: 'consumer throughput (10,000 seeded messages)',
    client: 'client.consumer',
    anchor: { key: 'pgbench.r_cat_full', target: 0.4 },
    peers: {
      msc: { key: 'msc.consumer', target: 1.5 },
      mdbc: { key: 'mdbc.consumer', target: 1.5 },
      emmett: { key: 'emmett.consumer', target: 1.5 },
    },
  },
  {
    label: 'consumer throughput, position recorded every 1000',
    client: 'client.consumer-1000',
    anchor: { key: 'pgbench.r_cat_full' },
  },
];

/**
 * Workloads grouped row by row (anchor, client, peers), each in the first row that names it, so
 * compared workloads run side by side; workloads no row names get a group each.
 */
export function groupByRow(workloads: readonly Workload[]): Workload[][] {
  const byKey = new Map(workloads.map((workload) => [workload.key, workload]));
  const placed = new Set<string>();
  const groups: Workload[][] = [];
  const take = (group: Workload[], key: string | undefined): void => {
    const workload = key === undefined ? undefined : byKey.get(key);
    if (workload === undefined || placed.has(workload.key)) return;
    placed.add(workload.key);
    group.push(workload);
  };
  for (const row of rows) {
    const group: Workload[] = [];
    take(group, row.anchor?.key);
    take(group, row.client);
    for (const peer of Object.values(row.peers ?? {})) take(group, peer?.key);
    if (group.length > 0) groups.push(group);
  }
  for (const workload of workloads) if (!placed.has(workload.key)) groups.push([workload]);
  return groups;
}
