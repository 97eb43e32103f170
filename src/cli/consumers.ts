/**
 * `messagedb consumers`: every consumer position stream (Eventide's naming: `account:position-worker-1`
 * is the position of consumer `worker-1` of category `account`), the position it recorded, the
 * category's head (newest global position) and the lag.
 *
 * The lag is Eventide's, head minus position, except for a consumer group member whose records carry
 * its group (this package's consumers write it in `metadata.localProperties`): a member handles only
 * its share, so its lag is measured to the newest message of that share, and a member that has
 * handled its share shows 0 even when other members' messages came later. A group member whose
 * records do not say so (an Eventide consumer) gets the category's lag: an upper bound.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { Metadata } from '../vocabulary/message.js';
import { parseUtcTimestamp, toSafeInteger } from '../vocabulary/message.js';
import type { MessageDbClient } from '../store/client.js';
import type { ConsumerGroup } from '../store/read.js';
import { recordedConsumerGroup } from '../consumer/group-record.js';
import { id as idOf } from '../vocabulary/stream-name.js';
import { addFormatOptions, addTargetOptions, examples, textOption } from './options.js';
import { formatTime } from './output.js';
import { consumerCategory } from '../consumer/position-store.js';
import * as statements from './statements.js';
import { formatCount, renderTable, type Column } from './table.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';
import { usageError } from './cli-error.js';
import { serveConsumerMetrics } from './metrics-server.js';

/** One consumer's row. */
export interface ConsumerRow {
  positionStream: string;
  category: string;
  identifier: string | null;
  /** The group the position records say the consumer is a member of, or null. */
  consumerGroup: ConsumerGroup | null;
  position: number | null;
  /** The category's newest global position (0 when it has none). */
  head: number;
  /** Head (of the member's share, for a recorded group member) minus position; null without a position. */
  lag: number | null;
  /** When the position was recorded. */
  recordedAt: Date;
}

function recordedPosition(value: unknown): number | null {
  const position = value === null ? NaN : Number(value);
  return Number.isSafeInteger(position) && position >= 0 ? position : null;
}

function parseMetadata(value: unknown): Metadata | null {
  if (typeof value !== 'string') return null;
  const metadata = JSON.parse(value) as unknown;
  return typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? (metadata as Metadata) : null;
}

/** The newest global position in a consumer group member's share of a category, 0 when there is none. */
async function shareHead(client: MessageDbClient, category: string, group: ConsumerGroup, signal: AbortSignal): Promise<number> {
  const [row] = await client.query(statements.consumerGroupShareHead, [category, group.member, group.size], { signal, readOnly: true });
  return row === undefined ? 0 : toSafeInteger(row.global_position, 'global_position');
}

const columns: readonly Column<ConsumerRow>[] = [
  { header: 'POSITION STREAM', cell: (r) => r.positionStream },
  { header: 'CATEGORY', cell: (r) => r.category },
  { header: 'GROUP', cell: (r) => (r.consumerGroup === null ? '-' : `${r.consumerGroup.member}/${r.consumerGroup.size}`), align: 'right' },
  { header: 'POSITION', cell: (r) => (r.position === null ? '-' : formatCount(r.position)), align: 'right' },
  { header: 'HEAD', cell: (r) => formatCount(r.head), align: 'right' },
  { header: 'LAG', cell: (r) => (r.lag === null ? '-' : formatCount(r.lag)), align: 'right' },
  { header: 'RECORDED AT', cell: (r) => formatTime(r.recordedAt) },
];

/** Every consumer position stream's row, optionally of one category. */
async function consumerRows(client: MessageDbClient, onlyCategory: string | undefined, signal: AbortSignal): Promise<ConsumerRow[]> {
  const streams = await client.query(statements.positionStreams, [], { signal, readOnly: true });
  const heads = new Map<string, number>();
  const rows: ConsumerRow[] = [];
  for (const { stream_name: streamName, recorded_position: positionText, metadata: metadataText, time } of streams) {
    const positionStream = String(streamName);
    const category = consumerCategory(positionStream);
    if (onlyCategory !== undefined && category !== onlyCategory) continue;
    if (!heads.has(category)) heads.set(category, await client.categoryHead(category, { signal }));
    const head = heads.get(category) ?? 0;
    const position = recordedPosition(positionText ?? null);
    const group = recordedConsumerGroup(parseMetadata(metadataText));
    const lagFrom = group === null ? head : await shareHead(client, category, group, signal);
    rows.push({
      positionStream,
      category,
      identifier: idOf(positionStream),
      consumerGroup: group,
      position,
      head,
      lag: position === null ? null : Math.max(0, lagFrom - position),
      recordedAt: parseUtcTimestamp(time),
    });
  }
  return rows;
}

/** Decimal digits as a number; NaN for anything else (`1e3`, `0x10`, ``), which Number() would read. */
function decimalInteger(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

/** Adds `messagedb consumers` to the program. */
export function registerConsumers(program: Command, context: CliContext): void {
  const command = program
    .command('consumers')
    .description('list consumer position streams with their position, the category head and the lag')
    .option('--category <category>', 'only consumers of this category', textOption)
    .option('--watch [ms]', 'refresh every ms milliseconds (default 2000) until Ctrl-C')
    .option('--metrics-port <port>', 'serve Prometheus /metrics (position, head, lag per consumer) on this port until Ctrl-C (0: any free port)')
    .option('--metrics-host <host>', 'the address --metrics-port listens on', textOption, '127.0.0.1')
    .addHelpText(
      'after',
      examples(
        'messagedb consumers',
        'messagedb consumers --category account --json',
        'messagedb consumers --watch 1000',
        'messagedb consumers --metrics-port 9464',
      ),
    );
  type ConsumersOptions = CommonOptions & { category?: string; watch?: string | true; metricsPort?: string; metricsHost: string };
  addFormatOptions(addTargetOptions(command)).action(async (options: ConsumersOptions) => {
    if (options.metricsPort !== undefined) return serveMetrics(context, options);
    const intervalMs = options.watch === undefined ? undefined : options.watch === true ? 2000 : decimalInteger(options.watch);
    if (intervalMs !== undefined && (!Number.isSafeInteger(intervalMs) || intervalMs < 100)) {
      throw usageError(`--watch takes an interval of at least 100 ms (got ${String(options.watch)})`);
    }
    await withClient(context, options, async ({ client }, output) => {
      const { signal } = context;
      const show = async (): Promise<void> => {
        const rows = await consumerRows(client, options.category, signal);
        if (output.format === 'json') {
          return output.records(rows.map((row) => ({ ...row, recordedAt: row.recordedAt.toISOString() })));
        }
        const table = rows.length === 0 ? ['(no consumer position streams)'] : renderTable(columns, rows, output.width);
        // Watching on a terminal redraws in place; elsewhere each refresh follows the last.
        const heading =
          intervalMs === undefined
            ? []
            : [`${process.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}${new Date().toISOString()}  (every ${intervalMs} ms, Ctrl-C to stop)`];
        return output.lines([...heading, ...table]);
      };
      if (intervalMs === undefined) return show();
      try {
        for (;;) {
          await show();
          await sleep(intervalMs, undefined, { signal });
        }
      } catch (error) {
        // Ctrl-C ends a watch normally: the read or the wait it cut short rejects.
        if (!signal.aborted) throw error;
      }
    });
  });
}

/** `--metrics-port`: serve the consumers' figures to Prometheus until Ctrl-C. */
async function serveMetrics(context: CliContext, options: CommonOptions & { category?: string; metricsPort?: string; metricsHost: string }): Promise<void> {
  const port = decimalInteger(options.metricsPort ?? '');
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535)
    throw usageError(`--metrics-port takes a port from 0 to 65535 (got ${String(options.metricsPort)})`);
  await withClient(context, options, async ({ client }, output) => {
    const served = await serveConsumerMetrics(options.metricsHost, port, () => consumerRows(client, options.category, context.signal), context.signal);
    output.note(`serving http://${options.metricsHost}:${served.port}/metrics (Ctrl-C to stop)`);
    await served.closed;
  });
}
