/**
 * `messagedb version`: this package's version, the Message DB version installed in the target
 * database (`not installed`, with the install command, when there is none: the server is still
 * reported, and the exit code is 0), and the PostgreSQL version.
 */
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { isSchemaMissingError } from '../vocabulary/errors.js';
import type { Runner } from '../engine/runner.js';
import * as sql from '../vocabulary/sql.js';
import { addFormatOptions, addTargetOptions, examples } from './options.js';
import { renderRecord } from './table.js';
import { errorContext, withRunner, type CliContext } from './with-target.js';

/** This package's version, from its package.json (two levels up from both src/cli and dist/cli). */
export function packageVersion(): string {
  const manifest = createRequire(import.meta.url)('../../package.json') as { version: string };
  return manifest.version;
}

/** The installed Message DB version, or null when the database has none. */
async function messageDbVersion(runner: Runner, signal: AbortSignal): Promise<string | null> {
  try {
    const rows = await runner.run(sql.messageStoreVersion, [], signal);
    return String(rows[0]?.[0]);
  } catch (error) {
    if (isSchemaMissingError(error)) return null;
    throw error;
  }
}

/** Adds `messagedb version` to the program. */
export function registerVersion(program: Command, context: CliContext): void {
  const command = program
    .command('version')
    .description('print the versions of messagedb, of the installed Message DB, and of PostgreSQL')
    .addHelpText('after', examples('messagedb version', 'messagedb version --url postgres://localhost/message_store --json'));
  addFormatOptions(addTargetOptions(command)).action(async (options) => {
    await withRunner(context, options, async ({ runner, engine, target }, output) => {
      const serverRows = await runner.run(sql.serverVersion, [], context.signal);
      const versions = {
        messagedb: packageVersion(),
        messageDb: await messageDbVersion(runner, context.signal),
        postgres: String(serverRows[0]?.[0]),
        engine,
        target: target.description,
      };
      if (output.format === 'json') return output.records([versions]);
      const server = engine === 'pglite' ? `${versions.postgres} (PGlite, ${versions.target})` : `${versions.postgres} (${versions.target})`;
      const install = errorContext(options, target, context.env).installCommand ?? '`messagedb install`';
      const messageDb = versions.messageDb ?? `not installed (install it with ${install})`;
      return output.lines(renderRecord([['messagedb', versions.messagedb], ['Message DB', messageDb], ['PostgreSQL', server]]));
    });
  });
}
