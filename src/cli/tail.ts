/**
 * `messagedb tail`: print a category's (or a stream's) new messages as they are written, as stored
 * (stored-messages.ts), until Ctrl-C (exit 0) or `--limit`. It polls: a full batch is read again at
 * once, an empty one waits `--poll-interval-ms`. It starts after the newest message unless
 * `--position` says otherwise.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { addFormatOptions, addMessageFilterOptions, addTargetOptions, examples, integerOption } from './options.js';
import { MessagePrinter } from './output.js';
import { checkFilters, typeFilter, type MessageFilterOptions } from './read.js';
import { getMessages, newestPosition, nextPosition } from './stored-messages.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

interface TailCommandOptions extends MessageFilterOptions, CommonOptions {
  limit?: number;
  pollIntervalMs: number;
}

const batchSize = 1000;

/** Adds `messagedb tail` to the program. */
export function registerTail(program: Command, context: CliContext): void {
  const command = program
    .command('tail')
    .description("follow a category's (or a stream's) new messages live, until Ctrl-C")
    .argument('<category>', 'a category (account), or a stream name (account-123)')
    .option('--position <n>', 'start here (global position for a category) instead of after the newest message', integerOption(0))
    .option('--limit <n>', 'stop after n messages', integerOption(1))
    .option('--poll-interval-ms <ms>', 'wait this long after an empty read', integerOption(1), 200)
    .addHelpText(
      'after',
      examples('messagedb tail account', 'messagedb tail account --type Withdrawn --json', 'messagedb tail account --position 1 --limit 10'),
    );
  addFormatOptions(addTargetOptions(addMessageFilterOptions(command))).action(async (name: string, options: TailCommandOptions) => {
    checkFilters(name, options);
    await withClient(context, options, async ({ client }, output) => {
      const { signal } = context;
      const printer = new MessagePrinter(output);
      const wanted = typeFilter(options.type);
      const limit = options.limit ?? Infinity;
      const filters = { batchSize, correlation: options.correlation, consumerGroup: options.group };
      let position = options.position ?? (await newestPosition(client, name, signal)) + 1;
      try {
        for (;;) {
          const batch = await getMessages(client, name, { ...filters, position }, signal);
          position = nextPosition(name, batch, position);
          await printer.print(batch.filter(wanted).slice(0, limit - printer.count));
          if (printer.count >= limit) break;
          if (batch.length < batchSize) await sleep(options.pollIntervalMs, undefined, { signal });
        }
      } catch (error) {
        // Ctrl-C is how tail is meant to end: the read or the wait it cut short rejects.
        if (!signal.aborted) throw error;
      }
    });
  });
}
