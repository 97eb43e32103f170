/**
 * `messagedb last`: a stream's last message (`get_last_stream_message`), optionally the last of one
 * type, printed as stored (stored-messages.ts). Exit 3 when there is none.
 */
import type { Command } from 'commander';
import { CliError, ExitCode } from './cli-error.js';
import { addFormatOptions, addTargetOptions, examples, textOption } from './options.js';
import { formatTime, messageLine, storedJson } from './output.js';
import { getLastStreamMessage } from './stored-messages.js';
import { renderRecord } from './table.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

/** Adds `messagedb last` to the program. */
export function registerLast(program: Command, context: CliContext): void {
  const command = program
    .command('last')
    .description("print a stream's last message, or its last message of one type")
    .argument('<stream>', 'stream name, e.g. account-123')
    .option('--type <type>', 'the last message of this type', textOption)
    .addHelpText('after', examples('messagedb last account-123', 'messagedb last account-123 --type Deposited --json'));
  addFormatOptions(addTargetOptions(command)).action(async (stream: string, options: CommonOptions & { type?: string }) => {
    await withClient(context, options, async ({ client }, output) => {
      const message = await getLastStreamMessage(client, stream, options.type, context.signal);
      if (message === null) {
        const ofType = options.type === undefined ? '' : ` of type ${options.type}`;
        throw new CliError(`stream ${stream} has no messages${ofType}`, ExitCode.notFound);
      }
      if (output.format === 'json') return output.lines([messageLine(message)]);
      return output.lines(
        renderRecord([
          ['stream', message.streamName],
          ['type', message.type],
          ['position', String(message.position)],
          ['global position', String(message.globalPosition)],
          ['time', formatTime(message.time)],
          ['id', message.id],
          ['data', storedJson(message.data)],
          ['metadata', storedJson(message.metadata)],
        ]),
      );
    });
  });
}
