/**
 * `messagedb read`: a stream's messages (a name with `-`), or a category's (a name without), a
 * batch at a time, printed as stored (stored-messages.ts). `--type` filters on the client: Message DB
 * can filter by type only through the raw-SQL `condition`, which the command never enables.
 */
import type { Command } from 'commander';
import type { ConsumerGroup } from '../store/read.js';
import type { MessageDbClient } from '../store/client.js';
import { isCategory } from '../vocabulary/stream-name.js';
import { CliError, ExitCode, usageError } from './cli-error.js';
import { addFormatOptions, addMessageFilterOptions, addTargetOptions, examples, integerOption } from './options.js';
import { MessagePrinter } from './output.js';
import { newestPosition, readMessages, type StoredMessage } from './stored-messages.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

/** The filters `read` and `tail` share. */
export interface MessageFilterOptions {
  position?: number;
  correlation?: string;
  group?: ConsumerGroup;
  type?: string[];
}

interface ReadCommandOptions extends MessageFilterOptions, CommonOptions {
  limit?: number;
}

/** Category-only options given for a stream are a usage error, before anything is opened. */
export function checkFilters(name: string, options: MessageFilterOptions): void {
  if (!isCategory(name) && (options.correlation !== undefined || options.group !== undefined)) {
    throw usageError(`--correlation and --group apply to a category, and ${name} is a stream name`);
  }
}

/** Keeps messages of the wanted types (all when none are given). */
export function typeFilter(types: readonly string[] | undefined): (message: StoredMessage) => boolean {
  if (types === undefined || types.length === 0) return () => true;
  const wanted = new Set(types);
  return (message) => wanted.has(message.type);
}

/** Exit 3 when the stream or category has no messages at all (rather than none that matched). */
export async function assertHasMessages(client: MessageDbClient, name: string, signal: AbortSignal): Promise<void> {
  const empty = (await newestPosition(client, name, signal)) === (isCategory(name) ? 0 : -1);
  if (empty) throw new CliError(`${isCategory(name) ? 'category' : 'stream'} ${name} has no messages`, ExitCode.notFound);
}

/** Adds `messagedb read` to the program. */
export function registerRead(program: Command, context: CliContext): void {
  const command = program
    .command('read')
    .description("read a stream's messages (name with -) or a category's (name without -)")
    .argument('<stream-or-category>', 'a stream name (account-123) or a category (account)')
    .option('--position <n>', 'first position to read: stream position, or global position for a category', integerOption(0))
    .option('--limit <n>', 'print at most n messages', integerOption(1))
    .addHelpText(
      'after',
      examples(
        'messagedb read account-123',
        'messagedb read account --position 1000 --limit 50',
        'messagedb read account --group 0/3 --type Deposited --json | jq .data',
        'messagedb read account --correlation transfer',
      ),
    );
  addFormatOptions(addTargetOptions(addMessageFilterOptions(command))).action(async (name: string, options: ReadCommandOptions) => {
    checkFilters(name, options);
    await withClient(context, options, async ({ client }, output) => {
      const printer = new MessagePrinter(output);
      const wanted = typeFilter(options.type);
      const limit = options.limit ?? Infinity;
      const batchSize = Math.min(1000, limit);
      const messages = readMessages(
        client,
        name,
        { position: options.position, batchSize, correlation: options.correlation, consumerGroup: options.group },
        context.signal,
      );
      let batch: StoredMessage[] = [];
      for await (const message of messages) {
        if (!wanted(message)) continue;
        batch.push(message);
        if (printer.count + batch.length >= limit) break;
        if (batch.length === batchSize) {
          await printer.print(batch);
          batch = [];
        }
      }
      await printer.print(batch);
      if (printer.count === 0) await assertHasMessages(client, name, context.signal);
    });
  });
}
