/**
 * `messagedb version`: this package's version, the Message DB version installed in the target
 * database (failing with the install hint when there is none), and the PostgreSQL version.
 */
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import * as sql from '../sql.js';
import { addFormatOptions, addTargetOptions, examples } from './options.js';
import { renderRecord } from './table.js';
import { withRunner, type CliContext } from './with-target.js';

/** This package's version, from its package.json (two levels up from both src/cli and dist/cli). */
export function packageVersion(): string {
  const manifest = createRequire(import.meta.url)('../../package.json') as { version: string };
  return manifest.version;
}

/** Adds `messagedb version` to the program. */
export function registerVersion(program: Command, context: CliContext): void {
  const command = program
    .command('version')
    .description('print the versions of messagedb, of the installed Message DB, and of PostgreSQL')
    .addHelpText('after', examples('messagedb version', 'messagedb version --url postgres://localhost/message_store --json'));
  addFormatOptions(addTargetOptions(command)).action(async (options) => {
    await withRunner(context, options, async ({ runner, engine, target }, output) => {
      const messageDbRows = await runner.run(sql.messageStoreVersion, []);
      const serverRows = await runner.run(sql.serverVersion, []);
      const versions = {
        messagedb: packageVersion(),
        messageDb: String(messageDbRows[0]?.[0]),
        postgres: String(serverRows[0]?.[0]),
        engine,
        target: target.description,
      };
      if (output.format === 'json') return output.records([versions]);
      const server = engine === 'pglite' ? `${versions.postgres} (PGlite, ${versions.target})` : `${versions.postgres} (${versions.target})`;
      return output.lines(renderRecord([['messagedb', versions.messagedb], ['Message DB', versions.messageDb], ['PostgreSQL', server]]));
    });
  });
}
