/**
 * What `messagedb bench` prints: a row per workload (this client's rate, its pgbench anchor's, and
 * the ratio) and a row per way of waking a consumer (write-to-handler latency), as tables or NDJSON.
 * A rate is the median of the rounds; a ratio is the median of the per-round ratios, which were
 * measured side by side, so drift between rounds cancels.
 */
import type { ConsumerRow } from './bench/consumer.js';
import type { Counterpart } from './bench/counterparts.js';
import { median, pairedRatio, type Rounds } from './bench/measure.js';
import { formatCount, renderTable, type Column } from './table.js';

/** A part of `messagedb bench`, chosen with `--only`. */
export type Section = 'writes' | 'reads' | 'consumer';

/** One workload's figures; null where there is nothing to show (no pgbench, no rate). */
export interface ThroughputRow {
  section: Section;
  label: string;
  workload: string;
  messagesPerSecond: number | null;
  pgbenchScript: string | null;
  pgbenchMessagesPerSecond: number | null;
  ratio: number | null;
}

/** Everything a run measured, and on what. */
export interface BenchRun {
  engine: 'postgres' | 'pglite';
  /** Safe to print: no password. */
  target: string;
  database: string | null;
  postgres: string | null;
  pgbench: string | null;
  rows: ThroughputRow[];
  latency: ConsumerRow[];
}

/** `value` rounded to `digits` decimals, or null when it was not measured (NaN). */
const rounded = (value: number, digits: number): number | null => (Number.isFinite(value) ? Number(value.toFixed(digits)) : null);

function medianRate(rounds: Rounds, key: string): number | null {
  return rounded(median((rounds.get(key) ?? []).filter(Number.isFinite)), 0);
}

/** The row of `counterpart` from the rounds. */
export function summarise(counterpart: Counterpart, section: Section, rounds: Rounds): ThroughputRow {
  const anchored = rounds.has(counterpart.anchor);
  return {
    section,
    label: counterpart.label,
    workload: counterpart.client,
    messagesPerSecond: medianRate(rounds, counterpart.client),
    pgbenchScript: anchored ? counterpart.anchor.replace(/^pgbench\./, '') : null,
    pgbenchMessagesPerSecond: anchored ? medianRate(rounds, counterpart.anchor) : null,
    ratio: anchored ? rounded(pairedRatio(rounds, counterpart.client, counterpart.anchor), 3) : null,
  };
}

const latencyLabel = (row: ConsumerRow): string => (row.listen ? 'listen: true (NOTIFY trigger)' : 'polling (pollIntervalMs 100)');
const rate = (value: number | null): string => (value === null ? '-' : formatCount(value));
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '-');

const throughputColumns: readonly Column<ThroughputRow>[] = [
  { header: 'WORKLOAD', cell: (row) => row.label },
  { header: 'CLIENT MSG/S', cell: (row) => rate(row.messagesPerSecond), align: 'right' },
  { header: 'PGBENCH SCRIPT', cell: (row) => row.pgbenchScript ?? '-' },
  { header: 'PGBENCH MSG/S', cell: (row) => rate(row.pgbenchMessagesPerSecond), align: 'right' },
  { header: 'CLIENT/PGBENCH', cell: (row) => (row.ratio === null ? '-' : `${row.ratio.toFixed(2)}x`), align: 'right' },
];

const latencyColumns: readonly Column<ConsumerRow>[] = [
  { header: 'CONSUMER (WRITE TO HANDLER)', cell: latencyLabel },
  { header: 'P50 MS', cell: (row) => ms(row.p50Ms), align: 'right' },
  { header: 'P99 MS', cell: (row) => ms(row.p99Ms), align: 'right' },
  { header: 'WRITE P50 MS', cell: (row) => ms(row.writeP50Ms), align: 'right' },
  { header: 'WRITE P99 MS', cell: (row) => ms(row.writeP99Ms), align: 'right' },
  { header: 'MESSAGES', cell: (row) => formatCount(row.messages), align: 'right' },
];

interface Method {
  rounds: number;
  seconds: number;
}

/** `15.20` of `pgbench (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)`. */
const versionNumber = (text: string): string => /\d+(\.\d+)+/.exec(text)?.[0] ?? text;

function heading(run: BenchRun, { rounds, seconds }: Method): string {
  const versions = `PostgreSQL ${versionNumber(run.postgres ?? '')}, ${run.pgbench === null ? 'no pgbench' : `pgbench ${versionNumber(run.pgbench)}`}`;
  const on = run.engine === 'postgres' ? `${run.target} (${versions})` : run.target;
  return `Bench on ${on}: ${rounds} round${rounds === 1 ? '' : 's'} of ${seconds} s per workload; rates are medians of the rounds`;
}

/** The run as tables for a terminal; without pgbench, without its columns. */
export function benchTables(run: BenchRun, method: Method, width: number | undefined): string[] {
  const lines = [heading(run, method), ''];
  const columns = run.pgbench === null ? throughputColumns.slice(0, 2) : throughputColumns;
  if (run.rows.length > 0) lines.push(...renderTable(columns, run.rows, width));
  if (run.latency.length > 0) lines.push(...(run.rows.length > 0 ? [''] : []), ...renderTable(latencyColumns, run.latency, width));
  return lines;
}

/** The run as NDJSON records: one `run` record, then a `throughput` record per workload and a `latency` record per consumer. */
export function benchRecords(run: BenchRun, { rounds, seconds }: Method): object[] {
  const { rows, latency, ...described } = run;
  return [
    { kind: 'run', ...described, rounds, seconds },
    ...rows.map((row) => ({ kind: 'throughput', ...row })),
    ...latency.map((row) => ({
      kind: 'latency',
      label: latencyLabel(row),
      listen: row.listen,
      p50Ms: rounded(row.p50Ms, 2),
      p99Ms: rounded(row.p99Ms, 2),
      writeP50Ms: rounded(row.writeP50Ms, 2),
      writeP99Ms: rounded(row.writeP99Ms, 2),
      messages: row.messages,
    })),
  ];
}
