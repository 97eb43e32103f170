/**
 * `messagedb stats`: what the store holds, from Message DB's summary views: totals (messages,
 * streams, categories, types), then counts by category and type, or by another view (`--by`).
 * The views scan every message, so this is for inspection, not for a hot path.
 */
import type { Command } from 'commander';
import { toSafeInteger } from '../vocabulary/message.js';
import * as sql from '../vocabulary/sql.js';
import { usageError } from './cli-error.js';
import { addFormatOptions, addTargetOptions, choiceOption, examples, textOption } from './options.js';
import { countOf, formatCount, renderTable, type Column } from './table.js';
import { withRunner, type CliContext, type CommonOptions } from './with-target.js';

/** The columns of each view, in the order its statement selects them. */
const views = {
  'category-type': { statement: sql.summaryViews.categoryType, keys: ['category', 'type'] },
  'type-category': { statement: sql.summaryViews.typeCategory, keys: ['type', 'category'] },
  stream: { statement: sql.summaryViews.stream, keys: ['streamName'] },
  'stream-type': { statement: sql.summaryViews.streamType, keys: ['streamName', 'type'] },
  type: { statement: sql.summaryViews.type, keys: ['type'] },
  'type-stream': { statement: sql.summaryViews.typeStream, keys: ['type', 'streamName'] },
} as const;

type ViewName = keyof typeof views;
const byChoices = ['totals', ...Object.keys(views)];

const headers: Record<string, string> = { streamName: 'STREAM', category: 'CATEGORY', type: 'TYPE' };

interface Totals {
  messages: number;
  streams: number;
  categories: number;
  types: number;
  headGlobalPosition: number;
}

type SummaryRow = Record<string, string | number>;

function totalsSentence(totals: Totals): string {
  return (
    `${countOf(totals.messages, 'message')} in ${countOf(totals.streams, 'stream')}, ` +
    `${countOf(totals.categories, 'category', 'categories')} and ${countOf(totals.types, 'type')} ` +
    `(newest global position ${formatCount(totals.headGlobalPosition)})`
  );
}

/** Adds `messagedb stats` to the program. */
export function registerStats(program: Command, context: CliContext): void {
  const command = program
    .command('stats')
    .description("count messages by category and type, or by another of Message DB's summary views")
    .addOption(choiceOption('--by <view>', 'what to count by', byChoices, 'category-type'))
    .option('--category <category>', 'only this category (not with --by type or totals)', textOption)
    .addHelpText(
      'after',
      examples('messagedb stats', 'messagedb stats --by stream --category account', 'messagedb stats --by totals --json'),
    );
  addFormatOptions(addTargetOptions(command)).action(async (options: CommonOptions & { by: string; category?: string }) => {
    if (options.category !== undefined && (options.by === 'type' || options.by === 'totals')) {
      throw usageError(`--category does not apply to --by ${options.by}`);
    }
    await withRunner(context, options, async ({ runner }, output) => {
      const [row = []] = await runner.run(sql.storeTotals, [], context.signal);
      const [messages, streams, categories, types, head] = row.map((value) => (value === null ? 0 : toSafeInteger(value, 'count')));
      const totals: Totals = { messages: messages ?? 0, streams: streams ?? 0, categories: categories ?? 0, types: types ?? 0, headGlobalPosition: head ?? 0 };
      if (options.by === 'totals') {
        return output.format === 'json' ? output.records([totals]) : output.lines([totalsSentence(totals)]);
      }
      const view = views[options.by as ViewName];
      const values = view.statement === sql.summaryViews.type ? [] : [options.category ?? null];
      const rows = await runner.run(view.statement, values, context.signal);
      const summary: SummaryRow[] = rows.map((cells) => {
        const record: SummaryRow = {};
        view.keys.forEach((key, index) => (record[key] = String(cells[index])));
        record.messageCount = toSafeInteger(cells[view.keys.length], 'message_count');
        record.percent = Number(cells[view.keys.length + 1]);
        return record;
      });
      if (output.format === 'json') return output.records(summary);
      const columns: Column<SummaryRow>[] = [
        ...view.keys.map((key) => ({ header: headers[key] ?? key, cell: (r: SummaryRow) => String(r[key]) })),
        { header: 'MESSAGES', cell: (r) => formatCount(r.messageCount as number), align: 'right' },
        { header: 'PERCENT', cell: (r) => (r.percent as number).toFixed(2), align: 'right' },
      ];
      await output.lines([totalsSentence(totals), '']);
      return output.lines(summary.length === 0 ? ['(no messages)'] : renderTable(columns, summary, output.width));
    });
  });
}
