/**
 * Installs Message DB from the official SQL files of the `@eventide/message-db` dependency, in the
 * order of its `install.sh`, without psql or bash, in one transaction. Idempotent: a complete 1.3.0
 * install is only verified. Mirrors the scripts' caveats: `tables/messages.sql` is skipped when the
 * table exists (ADD PRIMARY KEY is not re-runnable) and the functions always follow
 * `types/message.sql` (its DROP TYPE ... CASCADE removes the reading functions).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Engine, Queryable } from './engine/engine.js';
import { MessageDbError } from './errors.js';
import { installState, messageStoreVersion, verifyInstall } from './sql.js';

/** The Message DB version this client installs and expects. */
export const MESSAGE_DB_VERSION = '1.3.0';

/** What `install()` did. */
export interface InstallResult {
  /** `installed` (fresh), `updated` (from an older 1.x), or `verified` (already complete: nothing changed). */
  action: 'installed' | 'updated' | 'verified';
  version: string;
}

/** The SQL files of install.sh steps 3-9, in order (step 1, the role, is handled separately). */
const functionFiles = [
  'message-store-version', 'hash-64', 'acquire-lock', 'category', 'is-category', 'id', 'cardinal-id',
  'stream-version', 'write-message', 'get-stream-messages', 'get-category-messages', 'get-last-stream-message',
];
const indexFiles = ['messages-id', 'messages-stream', 'messages-category'];
const viewFiles = [
  'stream-summary', 'type-summary', 'stream-type-summary', 'type-stream-summary', 'category-type-summary', 'type-category-summary',
];
const privilegeFiles = ['schema', 'table', 'sequence', 'functions', 'views'];

/** The `database/` directory of the installed `@eventide/message-db` package. */
export function databaseScriptsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@eventide/message-db/package.json')), 'database');
}

async function script(relativePath: string): Promise<string> {
  return readFile(join(databaseScriptsDir(), relativePath), 'utf8');
}

async function isComplete(queryable: Queryable): Promise<boolean> {
  const [row] = await queryable.query(verifyInstall, []);
  return row !== undefined && row.every((present) => present === 't' || present === true);
}

async function version(queryable: Queryable): Promise<string> {
  const [row] = await queryable.query(messageStoreVersion, []);
  return String(row?.[0]);
}

/** Install, update or verify Message DB 1.3.0 in the engine's database. */
export async function install(engine: Engine): Promise<InstallResult> {
  const [state] = await engine.query(installState, []);
  const [serverVersion, tableExists, versionExists, oldGetLastExists, roleExists, canCreateRoles] = (state ?? []).map((v) =>
    v === 't' ? true : v === 'f' ? false : v,
  );
  if (tableExists === true && versionExists === true && oldGetLastExists === false) {
    if ((await version(engine)) === MESSAGE_DB_VERSION && (await isComplete(engine))) {
      return { action: 'verified', version: MESSAGE_DB_VERSION };
    }
  }
  if (roleExists !== true && canCreateRoles !== true) {
    throw new MessageDbError(
      'Installing Message DB needs a role that can create the message_store role (superuser or CREATEROLE); ' +
        'ask an administrator to install it once, after which this role can verify and use it',
      'SCHEMA_MISSING',
    );
  }

  const files: string[] = [];
  if (roleExists !== true) files.push('roles/message-store.sql');
  files.push('schema/message-store.sql');
  // gen_random_uuid() is built into PostgreSQL 13+, and PGlite has no pgcrypto unless loaded.
  if (Number(serverVersion) < 130000) files.push('extensions/pgcrypto.sql');
  if (tableExists !== true) files.push('tables/messages.sql');
  files.push('types/message.sql', ...functionFiles.map((name) => `functions/${name}.sql`));
  files.push(...indexFiles.map((name) => `indexes/${name}.sql`));
  files.push(...viewFiles.map((name) => `views/${name}.sql`));
  files.push(...privilegeFiles.map((name) => `privileges/${name}.sql`));
  const scripts = await Promise.all(files.map(script));

  await engine.transaction(async (queryable) => {
    await queryable.exec("SET LOCAL search_path TO message_store, public; SET LOCAL client_min_messages TO warning");
    // The 1.3.0 update script replaces the one-argument get_last_stream_message; left in place it
    // would make one-argument calls ambiguous.
    if (oldGetLastExists === true) await queryable.exec('DROP FUNCTION message_store.get_last_stream_message(varchar)');
    for (const sql of scripts) await queryable.exec(sql);
  });
  return { action: tableExists === true ? 'updated' : 'installed', version: await version(engine) };
}
