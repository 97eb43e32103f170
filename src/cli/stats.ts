/**
 * `messagedb stats`: what the store holds, from Message DB's summary views: totals (messages,
 * streams, categories, types), then counts by category and type, or by another view (`--by`).
 * The views scan every message, so this is for inspection, not for a hot path.
 */
import type { Command } from 'commander';
import { toSafeInteger } from '../vocabulary/message.js';
import { usageError } from './cli-error.js';
import { addFormatOptions, addTargetOptions, choiceOption, examples, textOption } from './options.js';
import { countOf, formatCount, renderTable, type Column } from './table.js';
import * as statements from './statements.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

/** Each view's statement, and its key columns: the name printed and the column the statement selects. */
const views = {
  'category-type': { statement: statements.summaryViews.categoryType, keys: { category: 'category', type: 'type' } },
  'type-category': { statement: statements.summaryViews.typeCategory, keys: { type: 'type', category: 'category' } },
  stream: { statement: statements.summaryViews.stream, keys: { streamName: 'stream_name' } },
  'stream-type': { statement: statements.summaryViews.streamType, keys: { streamName: 'stream_name', type: 'type' } },
  type: { statement: statements.summaryViews.type, keys: { type: 'type' } },
  'type-stream': { statement: statements.summaryViews.typeStream, keys: { type: 'type', streamName: 'stream_name' } },
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
    .addHelpText('after', examples('messagedb stats', 'messagedb stats --by stream --category account', 'messagedb stats --by totals --json'));
  addFormatOptions(addTargetOptions(command)).action(async (options: CommonOptions & { by: string; category?: string }) => {
    if (options.category !== undefined && (options.by === 'type' || options.by === 'totals')) {
      throw usageError(`--category does not apply to --by ${options.by}`);
    }
    await withClient(context, options, async ({ client }, output) => {
      const { signal } = context;
      const [row = {}] = await client.query(statements.storeTotals, [], { signal, readOnly: true });
      const count = (column: string): number => ((row[column] ?? null) === null ? 0 : toSafeInteger(row[column], column));
      const totals: Totals = {
        messages: count('messages'),
        streams: count('streams'),
        categories: count('categories'),
        types: count('types'),
        headGlobalPosition: count('head_global_position'),
      };
      if (options.by === 'totals') {
        return output.format === 'json' ? output.records([totals]) : output.lines([totalsSentence(totals)]);
      }
      const view = views[options.by as ViewName];
      const values = view.statement === statements.summaryViews.type ? [] : [options.category ?? null];
      const rows = await client.query(view.statement, values, { signal, readOnly: true });
      const keys = Object.entries(view.keys);
      const summary: SummaryRow[] = rows.map((cells) => {
        const record: SummaryRow = {};
        for (const [key, column] of keys) record[key] = String(cells[column]);
        record.messageCount = toSafeInteger(cells.message_count, 'message_count');
        record.percent = Number(cells.percent);
        return record;
      });
      if (output.format === 'json') return output.records(summary);
      const columns: Column<SummaryRow>[] = [
        ...keys.map(([key]) => ({ header: headers[key] ?? key, cell: (r: SummaryRow) => String(r[key]) })),
        { header: 'MESSAGES', cell: (r) => formatCount(r.messageCount as number), align: 'right' },
        { header: 'PERCENT', cell: (r) => (r.percent as number).toFixed(2), align: 'right' },
      ];
      await output.lines([totalsSentence(totals), '']);
      return output.lines(summary.length === 0 ? ['(no messages)'] : renderTable(columns, summary, output.width));
    });
  });
}
