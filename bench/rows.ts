import { counterpart } from '../src/cli/bench/counterparts.ts';
import { groupWorkloads, type Workload } from '../src/cli/bench/measure.ts';

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
  /** Workloads run in the same slices as this row's, reported in rows of their own. */
  alongside?: string[];
}

/** A row of this client against its pgbench anchor (src/cli/bench/counterparts.ts), with the ratio it has to reach. */
function anchored(client: string, target?: number): Row {
  const { label, anchor } = counterpart(client);
  return { label, client, anchor: target === undefined ? { key: anchor } : { key: anchor, target } };
}

export const rows: Row[] = [
  {
    ...anchored('client.single-write', 0.9),
    peers: {
      pg: { key: 'pg.single-write', target: 1.0 },
      msc: { key: 'msc.single-write', target: 1.0 },
      mdbc: { key: 'mdbc.single-write', target: 1.0 },
      emmett: { key: 'emmett.single-write', target: 1.0 },
    },
    // Node's floor and the telemetry rows below are measured in the same slices as the single
    // writes they are compared with, so drift between slices cannot move their ratios.
    alongside: [
      'floor.single-write',
      'client.single-write-telemetry',
      'client.single-write-metrics',
      'client.single-write-tracing',
      'client.concurrent-8',
      'client.concurrent-8-pipelined',
      'pgbench.w_distinct-c8',
    ],
  },
  {
    // Issue 17: concurrent callers on one connection should not pay a round trip each
    // (bench/client-workloads.ts). Measured in the single writes' slices, like the rows above.
    label: 'single writes by 8 concurrent callers through one client with `maxPoolSize: 1` and `pipelining: true` (one connection)',
    client: 'client.concurrent-8-pipelined',
    anchor: { key: 'pgbench.w_distinct', target: 1.0 },
  },
  {
    label: 'the same 8 callers without pipelining (the default: one statement at a time on the connection)',
    client: 'client.concurrent-8',
    anchor: { key: 'pgbench.w_distinct' },
  },
  { label: 'the same 8 callers, against pgbench on 8 connections', client: 'client.concurrent-8', anchor: { key: 'pgbench.w_distinct-c8' } },
  {
    label: 'pgbench on 8 connections, `-c 8 -j 2` (not this client)',
    client: 'pgbench.w_distinct-c8',
    anchor: { key: 'pgbench.w_distinct' },
  },
  {
    // What Node itself costs a round trip: the same write with no driver (bench/peers/node-floor.ts).
    label: "single write, Node's floor: a raw socket, no driver (not this client)",
    client: 'floor.single-write',
    anchor: { key: 'pgbench.w_distinct' },
  },
  {
    // Issue 5: metrics and tracing on must cost under 5% of single-write throughput. The "anchor"
    // here is this client with telemetry off, measured in the same slices.
    label: 'single write, metrics + tracing on (vs. off)',
    client: 'client.single-write-telemetry',
    anchor: { key: 'client.single-write', target: 0.95 },
  },
  // The two halves of that cost, each against telemetry off.
  { label: 'single write, metrics on (vs. off)', client: 'client.single-write-metrics', anchor: { key: 'client.single-write' } },
  { label: 'single write, tracing on (vs. off)', client: 'client.single-write-tracing', anchor: { key: 'client.single-write' } },
  {
    ...anchored('client.batch-100', 0.85),
    peers: {
      pg: { key: 'pg.transaction-100', target: 2.5 },
      msc: { key: 'msc.batch-100' },
      emmett: { key: 'emmett.batch-100' },
    },
  },
  anchored('client.batch-10'),
  anchored('client.batch-1000'),
  { ...anchored('client.transaction-100'), peers: { pg: { key: 'pg.transaction-100' } } },
  {
    ...anchored('client.stream-read'),
    peers: {
      pg: { key: 'pg.stream-read' },
      msc: { key: 'msc.stream-read' },
      mdbc: { key: 'mdbc.stream-read' },
      emmett: { key: 'emmett.stream-read' },
    },
  },
  {
    ...anchored('client.category-read', 0.5),
    peers: {
      pg: { key: 'pg.category-read', target: 1.5 },
      msc: { key: 'msc.category-read', target: 1.5 },
      mdbc: { key: 'mdbc.category-read', target: 1.5 },
      emmett: { key: 'emmett.category-read', target: 1.5 },
    },
  },
  {
    ...anchored('client.consumer', 0.4),
    peers: {
      msc: { key: 'msc.consumer', target: 1.5 },
      mdbc: { key: 'mdbc.consumer', target: 1.5 },
      emmett: { key: 'emmett.consumer', target: 1.5 },
    },
    alongside: ['pgbench.c_pos100'],
  },
  { label: 'consumer throughput, position recorded every 1000', client: 'client.consumer-1000', anchor: { key: 'pgbench.r_cat_full' } },
  {
    label: "consumer throughput, messages with the single write's data and metadata (heavier rows than the anchor's)",
    client: 'client.consumer-single',
    anchor: { key: 'pgbench.r_cat_full' },
  },
  {
    // pgbench itself, running a consumer's statements one after another (bench/anchors.ts).
    label: "pgbench running a consumer's statements one after another: the read, then 10 position records (not this client)",
    client: 'pgbench.c_pos100',
    anchor: { key: 'pgbench.r_cat_full' },
  },
  {
    // What the position records leave of r_cat_full's rate even for pgbench: the same read and ten
    // records, one statement after another (bench/anchors.ts). Not a target: a consumer that
    // reads ahead, as this one does, is not bound by it.
    label: "consumer throughput vs. pgbench running a consumer's statements one after another (the read, then 10 position records)",
    client: 'client.consumer',
    anchor: { key: 'pgbench.c_pos100' },
  },
];

/**
 * Workloads grouped row by row (anchor, client, peers), each in the first row that names it, so
 * compared workloads run side by side; workloads no row names get a group each.
 */
export function groupByRow(workloads: readonly Workload[]): Workload[][] {
  return groupWorkloads(
    workloads,
    rows.map((row) => [row.anchor?.key, row.client, ...Object.values(row.peers ?? {}).map((peer) => peer?.key), ...(row.alongside ?? [])]),
  );
}
