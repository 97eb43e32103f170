/**
 * `messagedb console`: start the web console on the target and print its URL; serve until Ctrl-C.
 * The console's code (src/console) is loaded only when this command runs.
 */
import type { Command } from 'commander';
import { MessageDbClient } from '../store/client.js';
import { redactConnectionString } from '../store/config.js';
import { toCliError, usageError } from './cli-error.js';
import { addTargetOptions, examples, integerOption, textOption } from './options.js';
import { Output, chooseFormat } from './output.js';
import { resolveTarget } from './target.js';
import { errorContext, withClient, type CliContext, type CommonOptions } from './with-target.js';

interface ConsoleOptions extends CommonOptions {
  host: string;
  port: number;
  token?: string;
  allowWrites?: boolean;
  replica?: string[];
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, textOption(value)];

/** Run the console on `client` until Ctrl-C; prints its URL on stdout. */
async function serve(client: MessageDbClient, target: string, options: ConsoleOptions, context: CliContext, output: Output): Promise<void> {
  const { startConsole } = await import('../console/console-server.js');
  const running = await startConsole({
    client,
    target,
    host: options.host,
    port: options.port,
    allowWrites: options.allowWrites === true,
    ...(options.token === undefined ? {} : { token: options.token }),
  });
  output.note(`console on ${target}, ${options.allowWrites === true ? 'writes allowed' : 'read-only'} (Ctrl-C to stop)`);
  await output.lines([running.url]);
  await new Promise<void>((resolve) => {
    if (context.signal.aborted) return resolve();
    context.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await running.close();
}

/** Adds `messagedb console` to the program. */
export function registerConsole(program: Command, context: CliContext): void {
  const command = program
    .command('console')
    .description('start the web console (streams, messages, consumers and their lag) and print its URL')
    .option('--host <host>', 'the address to listen on; any but loopback requires the token', textOption, '127.0.0.1')
    .option('--port <port>', 'the port to listen on (0: any free port)', integerOption(0), 0)
    .option('--token <token>', 'the token every request must carry (default: generated, and required only off loopback)', textOption)
    .option('--allow-writes', 'allow write actions from the page (default: read-only)')
    .option('--replica <url>', 'a read replica to show the lag of (repeatable; with --url)', collect)
    .addHelpText(
      'after',
      examples(
        'messagedb console',
        'messagedb console --data-dir .messagedb --port 8080',
        'messagedb console --url postgres://reader@db/message_store --host 0.0.0.0',
      ),
    );
  addTargetOptions(command).action(async (options: ConsoleOptions) => {
    if (options.port > 65535) throw usageError(`--port takes a port from 0 to 65535 (got ${options.port})`);
    if (options.token !== undefined && options.token.length < 16) throw usageError('--token must be at least 16 characters long');
    const replicas = options.replica ?? [];
    if (replicas.length === 0) {
      return withClient(context, options, ({ client, target }, output) => serve(client, target.description, options, context, output));
    }
    const target = resolveTarget(options, context.env, context.cwd);
    if (target.kind !== 'postgres') throw usageError('--replica needs a server: give --url');
    const output = new Output(chooseFormat(options));
    let client: MessageDbClient | undefined;
    try {
      client = await MessageDbClient.connect({ connectionString: target.url, readReplicas: replicas, applicationName: 'messagedb-console' });
      await serve(client, `${target.description} with ${replicas.map(redactConnectionString).join(', ')}`, options, context, output);
    } catch (error) {
      throw toCliError(error, errorContext(options, target, context.env));
    } finally {
      await client?.close().catch(() => {});
    }
  });
}
