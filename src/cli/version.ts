/**
 * `messagedb version`: this package's version, the Message DB version installed in the target
 * database (`not installed`, with the install command, when there is none: the server is still
 * reported, and the exit code is 0), and the PostgreSQL version.
 */
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { isSchemaMissingError } from '../vocabulary/errors.js';
import type { MessageDbClient } from '../store/client.js';
import * as statements from './statements.js';
import { addFormatOptions, addTargetOptions, examples } from './options.js';
import { renderRecord } from './table.js';
import { errorContext, withClient, type CliContext } from './with-target.js';

/** This package's version, from its package.json (two levels up from both src/cli and dist/cli). */
export function packageVersion(): string {
  const manifest = createRequire(import.meta.url)('../../package.json') as { version: string };
  return manifest.version;
}

/** The installed Message DB version, or null when the database has none. */
async function messageDbVersion(client: MessageDbClient): Promise<string | null> {
  try {
    return await client.messageStoreVersion();
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
    await withClient(context, options, async ({ client, target }, output) => {
      const [setting] = await client.query(statements.serverVersion, [], { signal: context.signal, readOnly: true });
      const engine = client.engine;
      const versions = {
        messagedb: packageVersion(),
        messageDb: await messageDbVersion(client),
        postgres: String(setting?.server_version),
        engine,
        target: target.description,
      };
      if (output.format === 'json') return output.records([versions]);
      const server = engine === 'pglite' ? `${versions.postgres} (PGlite, ${versions.target})` : `${versions.postgres} (${versions.target})`;
      const install = errorContext(options, target, context.env).installCommand ?? '`messagedb install`';
      const messageDb = versions.messageDb ?? `not installed (install it with ${install})`;
      return output.lines(
        renderRecord([
          ['messagedb', versions.messagedb],
          ['Message DB', messageDb],
          ['PostgreSQL', server],
        ]),
      );
    });
  });
}
