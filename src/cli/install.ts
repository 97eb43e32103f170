/**
 * `messagedb install`: install Message DB (the official SQL of @eventide/message-db) in the target
 * database, update an older 1.x, or verify a complete install. Safe to run again.
 */
import type { Command } from 'commander';
import { addFormatOptions, addTargetOptions, examples } from './options.js';
import { withClient, type CliContext } from './with-target.js';

const sentences = {
  installed: (version: string, where: string) => `Installed Message DB ${version} in ${where}`,
  updated: (version: string, where: string) => `Updated Message DB to ${version} in ${where}`,
  verified: (version: string, where: string) => `Message DB ${version} is already installed in ${where}`,
} as const;

/** Adds `messagedb install` to the program. */
export function registerInstall(program: Command, context: CliContext): void {
  const command = program
    .command('install')
    .description('install Message DB in the database, or verify that it is installed (idempotent)')
    .addHelpText(
      'after',
      examples(
        'messagedb install --url postgres://postgres@localhost/message_store',
        'MESSAGE_DB_URL=postgres://postgres@localhost/message_store messagedb install',
        'messagedb install --data-dir ./events      # an embedded database, created if missing',
      ),
    );
  addFormatOptions(addTargetOptions(command)).action(async (options) => {
    await withClient(
      context,
      options,
      async ({ client, target }, output) => {
        const result = await client.install();
        if (output.format === 'json') {
          await output.records([{ action: result.action, version: result.version, engine: client.engine, target: target.description }]);
        } else {
          await output.lines([sentences[result.action](result.version, target.description)]);
        }
      },
      { install: false },
    );
  });
}
