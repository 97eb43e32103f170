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
import type { Engine, Queryable } from '../engine/engine.js';
import { MessageDbError } from '../vocabulary/errors.js';
import { installState, messageStoreVersion, verifyInstall } from '../vocabulary/sql.js';

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
  'message-store-version',
  'hash-64',
  'acquire-lock',
  'category',
  'is-category',
  'id',
  'cardinal-id',
  'stream-version',
  'write-message',
  'get-stream-messages',
  'get-category-messages',
  'get-last-stream-message',
];
const indexFiles = ['messages-id', 'messages-stream', 'messages-category'];
const viewFiles = ['stream-summary', 'type-summary', 'stream-type-summary', 'type-stream-summary', 'category-type-summary', 'type-category-summary'];
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
  return row?.every((present) => present === 't' || present === true) ?? false;
}

async function version(queryable: Queryable): Promise<string> {
  const [row] = await queryable.query(messageStoreVersion, []);
  return String(row?.[0]);
}

interface InstallState {
  serverVersion: number;
  tableExists: boolean;
  versionExists: boolean;
  oldGetLastExists: boolean;
  roleExists: boolean;
  canCreateRoles: boolean;
}

async function readState(queryable: Queryable): Promise<InstallState> {
  const [row] = await queryable.query(installState, []);
  const [serverVersion, tableExists, versionExists, oldGetLastExists, roleExists, canCreateRoles] = (row ?? []).map((v) =>
    v === 't' ? true : v === 'f' ? false : v,
  );
  return {
    serverVersion: Number(serverVersion),
    tableExists: tableExists === true,
    versionExists: versionExists === true,
    oldGetLastExists: oldGetLastExists === true,
    roleExists: roleExists === true,
    canCreateRoles: canCreateRoles === true,
  };
}

async function isInstalled(queryable: Queryable, state: InstallState): Promise<boolean> {
  if (!state.tableExists || !state.versionExists || state.oldGetLastExists) return false;
  return (await version(queryable)) === MESSAGE_DB_VERSION && (await isComplete(queryable));
}

/** Arbitrary constant key of the advisory lock that serialises installers in one database. */
const installLockKey = 4_715_021_913;

/**
 * The message_store role is cluster-wide, so installers of two databases can race to create it;
 * the loser's CREATE ROLE fails with a unique violation (23505) rather than the DO block's
 * duplicate_object, and finds the role there.
 */
async function createRole(engine: Engine): Promise<void> {
  try {
    await engine.exec(await script('roles/message-store.sql'));
  } catch (error) {
    if (!(await readState(engine)).roleExists) throw error;
  }
}

/** Install, update or verify Message DB 1.3.0 in the engine's database. */
export async function install(engine: Engine): Promise<InstallResult> {
  const before = await readState(engine);
  if (await isInstalled(engine, before)) return { action: 'verified', version: MESSAGE_DB_VERSION };
  if (!before.roleExists) {
    if (!before.canCreateRoles) {
      throw new MessageDbError(
        'Installing Message DB needs a role that can create the message_store role (superuser or CREATEROLE); ' +
          'ask an administrator to install it once, after which this role can verify and use it',
        'SCHEMA_MISSING',
      );
    }
    await createRole(engine);
  }

  const action = await engine.transaction(async (queryable): Promise<InstallResult['action']> => {
    await queryable.exec(
      `SELECT pg_advisory_xact_lock(${installLockKey}); SET LOCAL search_path TO message_store, public; SET LOCAL client_min_messages TO warning`,
    );
    // Another installer may have finished while this one waited for the lock.
    const state = await readState(queryable);
    if (await isInstalled(queryable, state)) return 'verified';
    const files = ['schema/message-store.sql'];
    // gen_random_uuid() is built into PostgreSQL 13+, and PGlite has no pgcrypto unless loaded.
    if (state.serverVersion < 130000) files.push('extensions/pgcrypto.sql');
    if (!state.tableExists) files.push('tables/messages.sql');
    files.push('types/message.sql', ...functionFiles.map((name) => `functions/${name}.sql`));
    files.push(...indexFiles.map((name) => `indexes/${name}.sql`));
    files.push(...viewFiles.map((name) => `views/${name}.sql`));
    files.push(...privilegeFiles.map((name) => `privileges/${name}.sql`));
    const scripts = await Promise.all(files.map(script));
    // The 1.3.0 update script replaces the one-argument get_last_stream_message; left in place it
    // would make one-argument calls ambiguous.
    if (state.oldGetLastExists) await queryable.exec('DROP FUNCTION message_store.get_last_stream_message(varchar)');
    for (const sql of scripts) await queryable.exec(sql);
    return state.tableExists ? 'updated' : 'installed';
  });
  return { action, version: await version(engine) };
}
