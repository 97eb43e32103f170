/**
 * `messagedb positions compact`: deletes all but the newest records of each consumer position
 * stream (and, with --snapshots, of each entity snapshot stream) through `compactPositions`, in
 * short statements that are safe while consumers run. `--dry-run` reports what it would delete.
 */
import type { Command } from 'commander';
import { compactPositions, type CompactedCategory } from '../consumer/compact-positions.js';
import { isPermissionDeniedError } from '../vocabulary/errors.js';
import { CliError, ExitCode } from './cli-error.js';
import { addFormatOptions, addTargetOptions, examples, integerOption, textOption } from './options.js';
import { countOf, formatCount, renderTable, type Column } from './table.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

interface CompactOptions extends CommonOptions {
  category?: string;
  keep?: number;
  snapshots?: boolean;
  dryRun?: boolean;
  batchSize?: number;
}

const columns: readonly Column<CompactedCategory>[] = [
  { header: 'CATEGORY', cell: (row) => row.category },
  { header: 'RECORDS', cell: (row) => formatCount(row.scanned), align: 'right' },
  { header: 'DELETED', cell: (row) => formatCount(row.deleted), align: 'right' },
];

/** Adds `messagedb positions` (and its `compact`) to the program. */
export function registerPositions(program: Command, context: CliContext): void {
  const positions = program.command('positions').description('maintain consumer position streams');
  const compact = positions
    .command('compact')
    .description('delete all but the newest records of each position stream (safe while consumers run; needs a role that may DELETE)')
    .option('--category <category>', "only the position streams of this category's consumers (default: every one)", textOption)
    .option('--keep <count>', 'records to keep in each stream (default 1: the last, which is what consumers read)', integerOption(1))
    .option('--snapshots', 'entity snapshot streams too ({entity}:snapshot-{id})')
    .option('--dry-run', 'report what would be deleted, delete nothing')
    .option('--batch-size <count>', 'records read (and at most deleted) per statement (default 1000)', integerOption(1))
    .addHelpText(
      'after',
      examples(
        'messagedb positions compact --dry-run',
        'messagedb positions compact --category account --keep 2',
        'messagedb positions compact --snapshots --json',
      ),
    );
  addFormatOptions(addTargetOptions(compact)).action(async (options: CompactOptions) => {
    await withClient(context, options, async ({ client }, output) => {
      let result: Awaited<ReturnType<typeof compactPositions>>;
      try {
        result = await compactPositions(client, {
          category: options.category,
          keep: options.keep,
          snapshots: options.snapshots === true,
          dryRun: options.dryRun === true,
          batchSize: options.batchSize,
          signal: context.signal,
        });
      } catch (error) {
        if (isPermissionDeniedError(error)) throw new CliError(error.message, ExitCode.failed);
        throw error;
      }
      if (output.format === 'json') return output.records(result.categories.map((row) => ({ ...row, dryRun: result.dryRun })));
      const verb = result.dryRun ? 'would delete' : 'deleted';
      output.note(
        `${verb} ${countOf(result.deleted, 'record')} of ${formatCount(result.scanned)} in ${countOf(result.categories.length, 'category', 'categories')}`,
      );
      return output.lines(renderTable(columns, result.categories, output.width));
    });
  });
}
