/**
 * `messagedb consumers`: every consumer position stream (Eventide's naming: `account:position-worker-1`
 * is the position of consumer `worker-1` of category `account`), the position it recorded, the
 * category's head (newest global position) and the lag, head minus position. A member of a consumer
 * group handles only its share of the category, so its lag also counts the other members' messages
 * that came after its position: an upper bound.
 */
import type { Command } from 'commander';
import { parseUtcTimestamp } from '../message.js';
import * as sql from '../sql.js';
import { categoryTypes, category as categoryOf, entityName, id as idOf } from '../stream-name.js';
import { addFormatOptions, addTargetOptions, examples } from './options.js';
import { formatTime } from './output.js';
import { formatCount, renderTable, type Column } from './table.js';
import { withRunner, type CliContext, type CommonOptions } from './with-target.js';

/** One consumer's row. */
export interface ConsumerRow {
  positionStream: string;
  category: string;
  identifier: string | null;
  position: number | null;
  head: number;
  lag: number | null;
  /** When the position was recorded. */
  recordedAt: Date;
}

/** The category a position stream belongs to: `account:command+position-x` gives `account:command`. */
export function consumerCategory(positionStream: string): string {
  const positionCategory = categoryOf(positionStream);
  const types = categoryTypes(positionCategory).filter((type) => type !== 'position');
  return types.length === 0 ? entityName(positionCategory) : `${entityName(positionCategory)}:${types.join('+')}`;
}

function recordedPosition(value: unknown): number | null {
  const position = value === null ? NaN : Number(value);
  return Number.isSafeInteger(position) && position >= 0 ? position : null;
}

const columns: readonly Column<ConsumerRow>[] = [
  { header: 'POSITION STREAM', cell: (r) => r.positionStream },
  { header: 'CATEGORY', cell: (r) => r.category },
  { header: 'POSITION', cell: (r) => (r.position === null ? '-' : formatCount(r.position)), align: 'right' },
  { header: 'HEAD', cell: (r) => formatCount(r.head), align: 'right' },
  { header: 'LAG', cell: (r) => (r.lag === null ? '-' : formatCount(r.lag)), align: 'right' },
  { header: 'RECORDED AT', cell: (r) => formatTime(r.recordedAt) },
];

/** Adds `messagedb consumers` to the program. */
export function registerConsumers(program: Command, context: CliContext): void {
  const command = program
    .command('consumers')
    .description('list consumer position streams with their position, the category head and the lag')
    .option('--category <category>', 'only consumers of this category')
    .addHelpText('after', examples('messagedb consumers', 'messagedb consumers --category account --json'));
  addFormatOptions(addTargetOptions(command)).action(async (options: CommonOptions & { category?: string }) => {
    await withRunner(context, options, async ({ runner }, output) => {
      const streams = await runner.run(sql.positionStreams, [], context.signal);
      const heads = new Map<string, number>();
      const rows: ConsumerRow[] = [];
      for (const [streamName, positionText, time] of streams) {
        const positionStream = String(streamName);
        const category = consumerCategory(positionStream);
        if (options.category !== undefined && category !== options.category) continue;
        if (!heads.has(category)) {
          const [headRow] = await runner.run(sql.categoryHead, [category], context.signal);
          heads.set(category, headRow?.[0] === null || headRow?.[0] === undefined ? 0 : Number(headRow[0]));
        }
        const head = heads.get(category) ?? 0;
        const position = recordedPosition(positionText);
        rows.push({
          positionStream,
          category,
          identifier: idOf(positionStream),
          position,
          head,
          lag: position === null ? null : Math.max(0, head - position),
          recordedAt: parseUtcTimestamp(time),
        });
      }
      if (output.format === 'json') {
        return output.records(rows.map((row) => ({ ...row, recordedAt: row.recordedAt.toISOString() })));
      }
      return output.lines(rows.length === 0 ? ['(no consumer position streams)'] : renderTable(columns, rows, output.width));
    });
  });
}
