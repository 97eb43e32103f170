/**
 * `messagedb write`: one message from the arguments, or many from an NDJSON file (`--file`, see
 * write-file.ts). Prints the stream position the message got.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import * as validate from '../vocabulary/validate.js';
import { usageError } from './cli-error.js';
import { addFormatOptions, addTargetOptions, examples, integerOption, parseJson, parseJsonObject, textOption } from './options.js';
import { writeFile } from './write-file.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

interface WriteCommandOptions extends CommonOptions {
  metadata?: string;
  expectedVersion?: number;
  id?: string;
  file?: string;
  batchSize: number;
}

/** Adds `messagedb write` to the program. */
export function registerWrite(program: Command, context: CliContext): void {
  const command = program
    .command('write')
    .usage('<stream> <type> [data-json] [options]\n       messagedb write --file <messages.ndjson> [options]')
    .description('write a message, or every message of an NDJSON file')
    .argument('[stream]', 'stream name, e.g. account-123')
    .argument('[type]', 'message type, e.g. Deposited')
    .argument('[data-json]', 'message data as JSON (default: none, stored as NULL)')
    .option('--metadata <json>', 'metadata as a JSON object')
    .option('--expected-version <n>', 'the stream version it must have: -1 for an empty stream', integerOption(-1))
    .option('--id <uuid>', 'message id (default: a random UUID)')
    .option('--file <path>', 'write every line of this NDJSON file ({"streamName","type","data","metadata","id"}); - reads stdin', textOption)
    .option('--batch-size <n>', 'messages per atomic batch with --file', integerOption(1), 1000)
    .addHelpText(
      'after',
      examples(
        `messagedb write account-123 Deposited '{"amount": 10}'`,
        `messagedb write account-123 Withdrawn '{"amount": 5}' --expected-version 0 --metadata '{"correlationStreamName": "transfer-9"}'`,
        'messagedb write --file messages.ndjson',
        `echo '{"streamName":"account-1","type":"Opened"}' | messagedb write --file -`,
      ),
    );
  addFormatOptions(addTargetOptions(command)).action(
    async (stream: string | undefined, type: string | undefined, dataJson: string | undefined, options: WriteCommandOptions) => {
      if (options.file !== undefined) {
        if (stream !== undefined) throw usageError('give either <stream> <type> [data-json] or --file, not both');
        if (options.expectedVersion !== undefined || options.id !== undefined || options.metadata !== undefined) {
          throw usageError('--expected-version, --id and --metadata apply to a single message, not to --file');
        }
        const file = options.file;
        return withClient(context, options, (opened, output) => writeFile(opened.client, file, options.batchSize, output, context.signal));
      }
      if (stream === undefined || type === undefined) throw usageError('missing <stream> and <type> (or --file)');
      // Checked here, so that errors name the command's arguments rather than the library's.
      validate.text('<stream>', stream);
      validate.text('<type>', type);
      const data = dataJson === undefined ? null : parseJson('data-json', dataJson);
      const metadata = options.metadata === undefined ? null : parseJsonObject('--metadata', options.metadata);
      const id = options.id === undefined ? randomUUID() : validate.uuid(options.id, '--id');
      return withClient(context, options, async ({ client }, output) => {
        const position = await client.writeMessage(
          { id, streamName: stream, type, data, metadata, expectedVersion: options.expectedVersion ?? null },
          { signal: context.signal },
        );
        if (output.format === 'json') return output.records([{ streamName: stream, type, id: id.toLowerCase(), position }]);
        return output.lines([`Wrote ${type} to ${stream} at position ${position} (id ${id.toLowerCase()})`]);
      });
    },
  );
}
