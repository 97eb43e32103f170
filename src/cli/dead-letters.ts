/**
 * `messagedb dead-letters list|show|replay|discard`: the messages a consumer parked in its
 * dead-letter stream (`account:deadLetter-worker1`), with their state; `replay` asks the running
 * consumer to handle them again (a `ReplayRequested` record it notices on its poll cycle), and
 * `discard` records that they are not to be handled. Nothing is deleted.
 */
import type { Command } from 'commander';
import { deadLetterStreamName, type DeadLetter } from '../consumer/dead-letter-stream.js';
import { discardDeadLetters, listDeadLetters, requestDeadLetterReplay, type DeadLetterSelection } from '../consumer/dead-letter-decisions.js';
import { isConsumerError } from '../vocabulary/errors.js';
import { CliError, ExitCode, usageError } from './cli-error.js';
import { addFormatOptions, addTargetOptions, examples, integerOption, textOption } from './options.js';
import { formatTime } from './output.js';
import { countOf, formatCount, renderRecord, renderTable, type Column } from './table.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

type DeadLetterOptions = CommonOptions & { identifier: string };

const states = ['parked', 'replay requested', 'replayed', 'discarded', 'waiting', 'all'] as const;

const columns: readonly Column<DeadLetter>[] = [
  { header: 'GLOBAL', cell: (letter) => formatCount(letter.globalPosition), align: 'right' },
  { header: 'STREAM', cell: (letter) => letter.streamName },
  { header: 'TYPE', cell: (letter) => letter.type },
  { header: 'STATE', cell: (letter) => letter.state },
  { header: 'TRIES', cell: (letter) => String(letter.failure.attempts), align: 'right' },
  { header: 'PARKED AT', cell: (letter) => formatTime(letter.parkedAt) },
  { header: 'ERROR', cell: (letter) => `${letter.failure.error.name}: ${letter.failure.error.message}` },
];

/** A parked message as one NDJSON record. */
function record(letter: DeadLetter): object {
  const { message, failure, ...rest } = letter;
  return {
    ...rest,
    parkedAt: letter.parkedAt.toISOString(),
    stateSince: letter.stateSince.toISOString(),
    attempts: failure.attempts,
    error: failure.error,
    consumer: failure.consumer,
    message: { ...message, time: message.time.toISOString() },
  };
}

/** `<category> --identifier <id>`, the options of every subcommand. */
function addStreamOptions(command: Command): Command {
  return addFormatOptions(
    addTargetOptions(
      command.argument('<category>', "the consumer's category, e.g. account").requiredOption('--identifier <id>', "the consumer's identifier", textOption),
    ),
  );
}

/** The stream name, with a bad category or identifier as a usage error. */
function streamOf(category: string, options: DeadLetterOptions): string {
  return deadLetterStreamName(category, options.identifier);
}

/** Global positions from the arguments, or `--all`: one or the other. */
function selection(positions: readonly string[], all: boolean | undefined): DeadLetterSelection {
  if (all === true && positions.length > 0) throw usageError('give global positions or --all, not both');
  if (all === true) return 'all';
  if (positions.length === 0) throw usageError('give the global positions of the parked messages, or --all');
  const parse = integerOption(0);
  return positions.map((text) => {
    try {
      return parse(text);
    } catch (error) {
      throw usageError(`global position ${(error as Error).message}`);
    }
  });
}

/** A refused decision (not parked, decided already) as a one-line error. */
function refused(error: unknown): never {
  if (isConsumerError(error)) throw new CliError(error.message, /^No message/.test(error.message) ? ExitCode.notFound : ExitCode.failed);
  throw error;
}

/** Adds `messagedb dead-letters` to the program. */
export function registerDeadLetters(program: Command, context: CliContext): void {
  const command = program
    .command('dead-letters')
    .description('list, show, replay or discard the messages a consumer parked in its dead-letter stream')
    .addHelpText(
      'after',
      examples(
        'messagedb dead-letters list account --identifier worker1',
        'messagedb dead-letters show account 1234 --identifier worker1',
        'messagedb dead-letters replay account 1234 --identifier worker1',
        "messagedb dead-letters discard account --all --identifier worker1 --reason 'test data'",
      ),
    );

  addStreamOptions(command.command('list').description('list parked messages with their state'))
    .option('--state <state>', `only these: ${states.join(', ')} (waiting: parked or replay requested)`, 'waiting')
    .action(async (category: string, options: DeadLetterOptions & { state: string }) => {
      if (!(states as readonly string[]).includes(options.state)) throw usageError(`--state must be one of ${states.join(', ')} (got ${options.state})`);
      const streamName = streamOf(category, options);
      await withClient(context, options, async ({ client }, output) => {
        const letters = (await listDeadLetters(client, streamName, { signal: context.signal })).filter(
          (letter) =>
            options.state === 'all' ||
            letter.state === options.state ||
            (options.state === 'waiting' && (letter.state === 'parked' || letter.state === 'replay requested')),
        );
        if (output.format === 'json') return output.records(letters.map(record));
        return output.lines(
          letters.length === 0
            ? [`(no ${options.state === 'all' ? '' : `${options.state} `}messages in ${streamName})`]
            : renderTable(columns, letters, output.width),
        );
      });
    });

  addStreamOptions(command.command('show').description('show one parked message: its data, metadata, failure and state'))
    .argument('<globalPosition>', "the original message's global position", integerOption(0))
    .action(async (category: string, globalPosition: number, options: DeadLetterOptions) => {
      const streamName = streamOf(category, options);
      await withClient(context, options, async ({ client }, output) => {
        const letter = (await listDeadLetters(client, streamName, { signal: context.signal })).find((each) => each.globalPosition === globalPosition);
        if (letter === undefined) throw new CliError(`no message at global position ${globalPosition} is parked in ${streamName}`, ExitCode.notFound);
        if (output.format === 'json') return output.records([record(letter)]);
        return output.lines(
          renderRecord([
            ['global position', String(letter.globalPosition)],
            ['stream', letter.streamName],
            ['position', String(letter.position)],
            ['type', letter.type],
            ['state', `${letter.state} since ${formatTime(letter.stateSince)}`],
            ...(letter.reason === undefined ? [] : [['reason', letter.reason] as const]),
            ['parked at', formatTime(letter.parkedAt)],
            ['tries', String(letter.failure.attempts)],
            [
              'error',
              `${letter.failure.error.name}${letter.failure.error.code === undefined ? '' : ` (${letter.failure.error.code})`}: ${letter.failure.error.message}`,
            ],
            ['copies', String(letter.copies)],
            ['id', letter.message.id],
            ['time', formatTime(letter.message.time)],
            ['data', JSON.stringify(letter.message.data)],
            ['metadata', JSON.stringify(letter.message.metadata)],
          ]),
        );
      });
    });

  addStreamOptions(command.command('replay').description('ask the running consumer to handle parked messages again (once each, on its next poll)'))
    .argument('[globalPositions...]', "the originals' global positions")
    .option('--all', 'every waiting message')
    .action(async (category: string, positions: string[], options: DeadLetterOptions & { all?: boolean }) => {
      const streamName = streamOf(category, options);
      const selected = selection(positions, options.all);
      await withClient(context, options, async ({ client }, output) => {
        const requested = await requestDeadLetterReplay(client, streamName, selected, { signal: context.signal }).catch(refused);
        if (output.format === 'json') return output.records(requested.map((globalPosition) => ({ globalPosition, state: 'replay requested' })));
        return output.lines([
          `replay requested for ${countOf(requested.length, 'message')} in ${streamName}: the running consumer handles them on its next poll`,
        ]);
      });
    });

  addStreamOptions(command.command('discard').description('record that parked messages are not to be handled'))
    .argument('[globalPositions...]', "the originals' global positions")
    .option('--all', 'every waiting message')
    .option('--reason <text>', 'why, recorded with the decision', textOption)
    .action(async (category: string, positions: string[], options: DeadLetterOptions & { all?: boolean; reason?: string }) => {
      const streamName = streamOf(category, options);
      const selected = selection(positions, options.all);
      await withClient(context, options, async ({ client }, output) => {
        const discarded = await discardDeadLetters(client, streamName, selected, { signal: context.signal, reason: options.reason }).catch(refused);
        if (output.format === 'json') return output.records(discarded.map((globalPosition) => ({ globalPosition, state: 'discarded' })));
        return output.lines([`discarded ${countOf(discarded.length, 'message')} in ${streamName}`]);
      });
    });
}
