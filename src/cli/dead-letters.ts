/**
 * `messagedb dead-letters list|show|replay|discard`: the messages a consumer parked in its
 * dead-letter stream (`account:deadLetter-worker1`), with their state; `replay` asks the running
 * consumer to handle them again (a `ReplayRequested` record it notices on its poll cycle), and
 * `discard` records that they are not to be handled. Nothing is deleted. For an elastic group,
 * whose partitions park in streams of their own (`account:deadLetter-balances-3`), each command
 * covers every partition's stream, and a replay request goes to the stream of the message's
 * partition, where the member holding it handles it.
 */
import type { Command } from 'commander';
import { deadLetterStreamName, type DeadLetter } from '../consumer/dead-letter-stream.js';
import { discardDeadLetters, listDeadLetters, requestDeadLetterReplay, type DeadLetterSelection } from '../consumer/dead-letter-decisions.js';
import { findDeadLetterStreams, type ConsumerDeadLetterStream } from '../consumer/dead-letter-streams.js';
import type { MessageDbClient } from '../store/client.js';
import { isConsumerError } from '../vocabulary/errors.js';
import { CliError, ExitCode, usageError } from './cli-error.js';
import { addFormatOptions, addTargetOptions, examples, integerOption, textOption } from './options.js';
import { formatTime } from './output.js';
import { countOf, formatCount, renderRecord, renderTable, type Column } from './table.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

type DeadLetterOptions = CommonOptions & { identifier: string };

const states = ['parked', 'replay requested', 'replayed', 'discarded', 'waiting', 'all'] as const;

/** A parked message and the dead-letter stream it is in. */
type Listed = DeadLetter & { deadLetterStream: ConsumerDeadLetterStream };

const partitionColumn: Column<Listed> = { header: 'PARTITION', cell: (letter) => String(letter.deadLetterStream.partition ?? '-'), align: 'right' };

const columns: readonly Column<Listed>[] = [
  { header: 'GLOBAL', cell: (letter) => formatCount(letter.globalPosition), align: 'right' },
  { header: 'STREAM', cell: (letter) => letter.streamName },
  { header: 'TYPE', cell: (letter) => letter.type },
  { header: 'STATE', cell: (letter) => letter.state },
  { header: 'TRIES', cell: (letter) => String(letter.failure.attempts), align: 'right' },
  { header: 'PARKED AT', cell: (letter) => formatTime(letter.parkedAt) },
  { header: 'ERROR', cell: (letter) => `${letter.failure.error.name}: ${letter.failure.error.message}` },
];

/** A parked message as one NDJSON record (`partition` only for an elastic group's). */
function record(letter: Listed): object {
  const { message, failure, deadLetterStream, ...rest } = letter;
  return {
    ...rest,
    deadLetterStreamName: deadLetterStream.streamName,
    ...(deadLetterStream.partition === null ? {} : { partition: deadLetterStream.partition }),
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

/**
 * The consumer's dead-letter streams: its own, and an elastic group's partitions' (found with one
 * index probe each, not by reading the category); its own alone when none holds anything.
 */
async function streamsOf(client: MessageDbClient, category: string, options: DeadLetterOptions, signal: AbortSignal): Promise<ConsumerDeadLetterStream[]> {
  const streams = await findDeadLetterStreams(client, category, options.identifier, { signal });
  return streams.length > 0 ? streams : [{ streamName: streamOf(category, options), partition: null, version: -1 }];
}

/** Every parked message of `streams`, by global position. */
async function lettersOf(client: MessageDbClient, streams: readonly ConsumerDeadLetterStream[], signal: AbortSignal): Promise<Listed[]> {
  const letters: Listed[] = [];
  for (const deadLetterStream of streams) {
    for (const letter of await listDeadLetters(client, deadLetterStream.streamName, { signal })) letters.push({ ...letter, deadLetterStream });
  }
  return letters.sort((a, b) => a.globalPosition - b.globalPosition || a.deadLetterStream.streamName.localeCompare(b.deadLetterStream.streamName));
}

const isWaiting = (letter: DeadLetter): boolean => letter.state === 'parked' || letter.state === 'replay requested';

/**
 * Apply `decide` to the selection in each stream that holds it: `--all` in every stream, else each
 * global position in the stream where it waits (where it is, when it waits nowhere, so the refusal
 * names its state). Every position is checked before anything is written.
 */
async function decideAcross(
  client: MessageDbClient,
  streams: readonly ConsumerDeadLetterStream[],
  selected: DeadLetterSelection,
  signal: AbortSignal,
  decide: (streamName: string, selection: DeadLetterSelection) => Promise<number[]>,
): Promise<number[]> {
  if (streams.length === 1) return decide((streams[0] as ConsumerDeadLetterStream).streamName, selected);
  const letters = await lettersOf(client, streams, signal);
  const chosen = new Map<string, number[]>();
  const choose = (streamName: string, position: number): void => void chosen.set(streamName, [...(chosen.get(streamName) ?? []), position]);
  if (selected === 'all') {
    for (const letter of letters.filter(isWaiting)) choose(letter.deadLetterStream.streamName, letter.globalPosition);
  } else {
    for (const position of selected) {
      const found = letters.filter((letter) => letter.globalPosition === position);
      const letter = found.find(isWaiting) ?? found[0];
      if (letter === undefined) {
        throw new CliError(`No message at global position ${position} is parked in ${streams.map((each) => each.streamName).join(', ')}`, ExitCode.notFound);
      }
      if (!isWaiting(letter)) {
        throw new CliError(
          `Cannot decide on the message at global position ${position} in ${letter.deadLetterStream.streamName}: it was ${letter.state}`,
          ExitCode.failed,
        );
      }
      choose(letter.deadLetterStream.streamName, position);
    }
  }
  const decided: number[] = [];
  for (const [streamName, positions] of chosen) decided.push(...(await decide(streamName, positions)));
  return decided.sort((a, b) => a - b);
}

/** Where decisions went, for the one-line summary. */
const streamsText = (streams: readonly ConsumerDeadLetterStream[]): string =>
  streams.length === 1 ? (streams[0] as ConsumerDeadLetterStream).streamName : `the ${streams.length} dead-letter streams of the elastic group`;

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
      streamOf(category, options);
      await withClient(context, options, async ({ client }, output) => {
        const streams = await streamsOf(client, category, options, context.signal);
        const letters = (await lettersOf(client, streams, context.signal)).filter(
          (letter) =>
            options.state === 'all' ||
            letter.state === options.state ||
            (options.state === 'waiting' && (letter.state === 'parked' || letter.state === 'replay requested')),
        );
        if (output.format === 'json') return output.records(letters.map(record));
        return output.lines(
          letters.length === 0
            ? [`(no ${options.state === 'all' ? '' : `${options.state} `}messages in ${streamsText(streams)})`]
            : renderTable(streams.some((each) => each.partition !== null) ? [partitionColumn, ...columns] : columns, letters, output.width),
        );
      });
    });

  addStreamOptions(command.command('show').description('show one parked message: its data, metadata, failure and state'))
    .argument('<globalPosition>', "the original message's global position", integerOption(0))
    .action(async (category: string, globalPosition: number, options: DeadLetterOptions) => {
      streamOf(category, options);
      await withClient(context, options, async ({ client }, output) => {
        const streams = await streamsOf(client, category, options, context.signal);
        const found = (await lettersOf(client, streams, context.signal)).filter((each) => each.globalPosition === globalPosition);
        const letter = found.find(isWaiting) ?? found[0];
        if (letter === undefined) throw new CliError(`no message at global position ${globalPosition} is parked in ${streamsText(streams)}`, ExitCode.notFound);
        if (output.format === 'json') return output.records([record(letter)]);
        return output.lines(
          renderRecord([
            ['global position', String(letter.globalPosition)],
            ['dead-letter stream', letter.deadLetterStream.streamName],
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
      streamOf(category, options);
      const selected = selection(positions, options.all);
      await withClient(context, options, async ({ client }, output) => {
        const streams = await streamsOf(client, category, options, context.signal);
        const requested = await decideAcross(client, streams, selected, context.signal, (streamName, chosen) =>
          requestDeadLetterReplay(client, streamName, chosen, { signal: context.signal }),
        ).catch(refused);
        if (output.format === 'json') return output.records(requested.map((globalPosition) => ({ globalPosition, state: 'replay requested' })));
        const who = streams.length === 1 ? 'the running consumer handles' : "the member holding each message's partition handles";
        return output.lines([`replay requested for ${countOf(requested.length, 'message')} in ${streamsText(streams)}: ${who} them on its next poll`]);
      });
    });

  addStreamOptions(command.command('discard').description('record that parked messages are not to be handled'))
    .argument('[globalPositions...]', "the originals' global positions")
    .option('--all', 'every waiting message')
    .option('--reason <text>', 'why, recorded with the decision', textOption)
    .action(async (category: string, positions: string[], options: DeadLetterOptions & { all?: boolean; reason?: string }) => {
      streamOf(category, options);
      const selected = selection(positions, options.all);
      await withClient(context, options, async ({ client }, output) => {
        const streams = await streamsOf(client, category, options, context.signal);
        const discarded = await decideAcross(client, streams, selected, context.signal, (streamName, chosen) =>
          discardDeadLetters(client, streamName, chosen, { signal: context.signal, reason: options.reason }),
        ).catch(refused);
        if (output.format === 'json') return output.records(discarded.map((globalPosition) => ({ globalPosition, state: 'discarded' })));
        return output.lines([`discarded ${countOf(discarded.length, 'message')} in ${streamsText(streams)}`]);
      });
    });
}
