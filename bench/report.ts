/**
 * The markdown report: environment, client against pgbench, client against peers, targets,
 * scaling charts, consumer and memory rows, and notes. Written to BENCHMARKS.md (or printed),
 * with bench/notes.md (hand-written: what bounds each figure) appended.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { ConsumerRow } from '../src/cli/bench/consumer.ts';
import type { Environment } from './environment.ts';
import { median, pairedRatio, type Rounds } from '../src/cli/bench/measure.ts';
import type { MemoryRow } from './memory.ts';
import type { BenchOptions } from './options.ts';
import { peers, rows, type Row } from './rows.ts';
import type { ScalingResult } from './scaling.ts';
import { lineChart } from './svg-chart.ts';

export interface BenchResults {
  environment: Environment;
  options: BenchOptions;
  rounds: Rounds;
  scaling?: ScalingResult;
  consumer?: ConsumerRow[];
  memory?: MemoryRow[];
  /** The markdown of the entity store's and typed messages' rows (bench/toolkit.ts). */
  toolkit?: string;
  /** The markdown of bench/test-kit.ts (messagedb/testing's store creation against embedded() with the install; PGlite, no server), run as a child process. */
  testKit?: string;
  /** The markdown of bench/dead-letters.ts (a consumer with 1% of its messages parked against none), run as a child process. */
  deadLetters?: string;
  /** The markdown of bench/replicas.ts (reads with 0, 1 and 2 hot standbys), run as a child process. */
  replicas?: string;
  /** The markdown of bench/console.ts (the console's views over a million messages), run as a child process. */
  console?: string;
  /** The markdown of bench/elastic.ts (elastic groups: rebalance times, throughput against a fixed group), run as a child process. */
  elastic?: string;
  /** The markdown of bench/doctor.ts (diagnose() over a million messages) and bench/tuning.ts (docs/tuning.md's figures), each run as a child process. */
  doctor?: string;
  tuning?: string;
  notes: string[];
  elapsedSeconds?: number;
}

/** 1234 -> `1,234`; 56789 -> `56.8k`; 1234567 -> `1.23M`. */
export function formatRate(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return Math.round(value).toLocaleString('en-US');
}

/** `1.23x`; with a target, three decimals where two would round onto the target from below. */
export function formatRatio(value: number | undefined, target?: number): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  const close = target !== undefined && value < target && Number(value.toFixed(2)) >= target;
  return `${value.toFixed(close ? 3 : 2)}x`;
}

const verdict = (ratio: number, target: number | undefined): string =>
  target === undefined ? '' : !Number.isFinite(ratio) ? 'not measured' : ratio >= target ? 'met' : '**missed**';

function medianOf(results: BenchResults, key: string): number | undefined {
  const values = results.rounds.get(key)?.filter(Number.isFinite);
  return values === undefined || values.length === 0 ? undefined : median(values);
}

function anchorName(row: Row): string {
  return row.anchor === undefined ? '' : `\`${row.anchor.key.replace('pgbench.', '').replace(/-c(\d+)$/, ' -c $1')}\``;
}

function environmentSection(results: BenchResults): string[] {
  const { environment: env, options } = results;
  const packages = Object.entries(env.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return [
    `Measured ${env.date} by \`npm run bench\`.`,
    '',
    `- Server: ${env.server}. Every figure below comes from it, except the read replicas section, which names its own servers.`,
    `- Machine: ${env.machine}`,
    `- Node ${env.node}; ${env.pgbench ?? 'pgbench not available'}; Message DB ${env.messageDb}`,
    `- Packages: ${packages}`,
    `- Load average (1 min, 2 cores): ${env.loadAtStart.toFixed(1)} at the start, ${env.loadAtEnd === undefined ? '?' : env.loadAtEnd.toFixed(1)} at the end`,
    `- Method: ${options.rounds} rounds; in each, the workloads of a row (pgbench's anchor, this client, the peers; for single writes also Node's floor, the telemetry variants, the concurrent callers and pgbench on 8 connections) take turns in four ` +
      `${options.seconds / 4} s slices, so each gets ${options.seconds} s per round; consumer runs (a fixed 10,000 messages) run once per round. ` +
      'The order is rotated each round. Rates are medians of the rounds; a ratio is the median of the per-round ratios (paired, so drift between rounds cancels).' +
      (results.elapsedSeconds === undefined ? '' : ` The whole run took ${results.elapsedSeconds} s.`),
  ];
}

function pgbenchSection(results: BenchResults): string[] {
  const lines = [
    '| workload | this client (msg/s) | pgbench script | pgbench (msg/s) | client / pgbench | target | |',
    '| --- | ---: | --- | ---: | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    if (!results.rounds.has(row.client)) continue;
    const ratio = row.anchor === undefined ? Number.NaN : pairedRatio(results.rounds, row.client, row.anchor.key);
    const target = row.anchor?.target;
    lines.push(
      `| ${row.label} | ${formatRate(medianOf(results, row.client))} | ${anchorName(row)} | ${formatRate(row.anchor && medianOf(results, row.anchor.key))} | ` +
        `${formatRatio(ratio, target)} | ${target === undefined ? '' : `>= ${target}x`} | ${verdict(ratio, target)} |`,
    );
  }
  return lines;
}

function peerSection(results: BenchResults): string[] {
  const present = peers.filter((peer) => [...results.rounds.keys()].some((key) => key.startsWith(`${peer.key}.`)));
  if (present.length === 0) return ['No peer was measured in this run.'];
  const lines = [
    `| workload | this client (msg/s) | ${present.map((peer) => peer.label).join(' | ')} |`,
    `| --- | ---: | ${present.map(() => '---:').join(' | ')} |`,
  ];
  for (const row of rows) {
    if (row.peers === undefined || !results.rounds.has(row.client)) continue;
    const cells = present.map((peer) => {
      const compared = row.peers?.[peer.key];
      if (compared === undefined || !results.rounds.has(compared.key)) return '—';
      const ratio = pairedRatio(results.rounds, row.client, compared.key);
      const target = compared.target === undefined ? '' : ` ${verdict(ratio, compared.target)} (>= ${compared.target}x)`;
      return `${formatRate(medianOf(results, compared.key))} (client ${formatRatio(ratio, compared.target)})${target}`;
    });
    lines.push(`| ${row.label} | ${formatRate(medianOf(results, row.client))} | ${cells.join(' | ')} |`);
  }
  lines.push('', 'Each peer cell: the peer\'s median rate, then this client\'s rate divided by it. "—": the peer has no such operation.');
  return lines;
}

function scalingSection(results: BenchResults, chartPaths: string[]): string[] {
  const scaling = results.scaling;
  if (scaling === undefined) return [];
  const lines = ['## Scaling: pool size and categories', '', scaling.description, ''];
  for (const path of chartPaths) lines.push(`![${path}](${path})`, '');
  lines.push(`| pool size | ${scaling.series.map((series) => series.label).join(' | ')} |`);
  lines.push(`| ---: | ${scaling.series.map(() => '---:').join(' | ')} |`);
  for (const [index, poolSize] of scaling.poolSizes.entries()) {
    lines.push(`| ${poolSize} | ${scaling.series.map((series) => formatRate(series.values[index])).join(' | ')} |`);
  }
  return lines;
}

function consumerSection(results: BenchResults): string[] {
  if (results.consumer === undefined || results.consumer.length === 0) return [];
  const lines = [
    '## Consumer latency: write to handler',
    '',
    "One message written every 5 ms; latency from just before `writeMessage` to the handler (the write's own commit included).",
    '',
    '| consumer | messages | p50 | p99 | the write alone: p50 | p99 | target | |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const row of results.consumer) {
    const verdictText = row.target === undefined ? '' : row.p99Ms < 20 ? 'met' : '**missed**';
    const ms = (value: number): string => `${value.toFixed(1)} ms`;
    lines.push(
      `| ${row.label} | ${row.messages} | ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${ms(row.writeP50Ms)} | ${ms(row.writeP99Ms)} | ${row.target ?? ''} | ${verdictText} |`,
    );
  }
  return lines;
}

function memorySection(results: BenchResults): string[] {
  if (results.memory === undefined || results.memory.length === 0) return [];
  const lines = [
    '## Memory: reading a large category',
    '',
    'Each reader runs in a fresh process. Peak RSS growth: the high-water mark during the read over the RSS after one batch and a full collection. ' +
      'Second half: the RSS peak while reading the second half of the messages minus the peak of the first half (about zero when memory does not grow with the stream). ' +
      'Retained: heap in use after the read and a full collection, over the same baseline (what the read keeps).',
    '',
    '| reader | messages | time | peak RSS growth | second half over first | retained heap | target | |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of results.memory) {
    // The target is for Node's defaults; a row with other flags only shows what the collector's sizing adds.
    const defaults = row.nodeFlags.length === 0;
    const verdict = defaults ? (row.peakGrowthMiB < 64 ? 'met' : '**missed**') : '';
    lines.push(
      `| ${row.label} | ${row.messages.toLocaleString('en-US')} | ${row.seconds.toFixed(1)} s | ${row.peakGrowthMiB.toFixed(1)} MiB | ` +
        `${row.secondHalfGrowthMiB.toFixed(1)} MiB | ${row.retainedMiB.toFixed(1)} MiB | ${defaults ? 'peak < 64 MiB' : ''} | ${verdict} |`,
    );
  }
  return lines;
}

/** Render the charts and the markdown; write them unless `--out -`. Always prints the markdown to stderr's log. */
export async function writeReport(results: BenchResults, log: (line: string) => void): Promise<string> {
  const out = results.options.out;
  const chartPaths: string[] = [];
  if (results.scaling !== undefined && out !== '-') {
    mkdirSync(results.options.chartsDir, { recursive: true });
    for (const chart of results.scaling.charts) {
      const file = join(results.options.chartsDir, `${chart.name}.svg`);
      writeFileSync(file, lineChart(chart));
      chartPaths.push(relative(dirname(out), file));
    }
  }
  let notes = '';
  try {
    notes = readFileSync(new URL('./notes.md', import.meta.url), 'utf8');
  } catch {
    // no hand-written notes
  }
  const markdown = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.ts); the notes at the end come from bench/notes.md. -->',
    '',
    ...environmentSection(results),
    '',
    "## This client against the server's ceiling (pgbench)",
    '',
    ...pgbenchSection(results),
    '',
    '## This client against its peers, on the same database',
    '',
    ...peerSection(results),
    '',
    ...scalingSection(results, chartPaths),
    '',
    ...consumerSection(results),
    '',
    ...memorySection(results),
    '',
    ...(results.toolkit === undefined ? [] : [results.toolkit.trim(), '']),
    ...(results.testKit === undefined ? [] : [results.testKit.trim(), '']),
    ...(results.deadLetters === undefined ? [] : [results.deadLetters.trim(), '']),
    ...(results.replicas === undefined ? [] : [results.replicas.trim(), '']),
    ...(results.console === undefined ? [] : [results.console.trim(), '']),
    ...(results.elastic === undefined ? [] : [results.elastic.trim(), '']),
    ...(results.doctor === undefined ? [] : [results.doctor.trim(), '']),
    ...(results.tuning === undefined ? [] : [results.tuning.trim(), '']),
    ...(results.notes.length === 0 ? [] : ['## Notes from this run', '', ...results.notes.map((note) => `- ${note}`), '']),
    notes.trim(),
    '',
  ]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
  if (out === '-') process.stdout.write(markdown);
  else {
    writeFileSync(out, markdown);
    log(`report written to ${out}`);
    process.stdout.write(markdown);
  }
  return markdown;
}
