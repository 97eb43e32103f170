/**
 * Which database a command uses, and opening it: `--url`, else `--data-dir`, else MESSAGE_DB_URL,
 * else DATABASE_URL, else the embedded database in `./.messagedb`, created and installed on first
 * use. Falling back to the embedded database is said on stderr. Descriptions never hold a password.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { MessageDbClient } from '../store/client.js';
import { redactConnectionString } from '../store/config.js';
import { MESSAGE_DB_VERSION } from '../store/install.js';
import { usageError } from './cli-error.js';

/** The embedded database's directory when nothing else is said. */
export const DEFAULT_DATA_DIR = '.messagedb';

/** The target options every command takes. */
export interface TargetOptions {
  url?: string;
  dataDir?: string;
}

/** A resolved target; `description` is safe to print. */
export type Target = { kind: 'postgres'; url: string; description: string } | { kind: 'pglite'; dataDir: string; description: string; fallback: boolean };

/** The connection string to use and where it came from, if any: --url, then the environment. */
function connectionString(options: TargetOptions, env: NodeJS.ProcessEnv): { source: string; url: string | undefined } {
  if (options.url !== undefined) return { source: '--url', url: options.url };
  // An explicit --data-dir outranks the environment.
  if (options.dataDir !== undefined) return { source: '--data-dir', url: undefined };
  for (const name of ['MESSAGE_DB_URL', 'DATABASE_URL']) {
    const value = env[name];
    if (value !== undefined && value !== '') return { source: name, url: value };
  }
  return { source: 'default', url: undefined };
}

/** Pick the target from the options, then the environment. */
export function resolveTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Target {
  if (options.url !== undefined && options.dataDir !== undefined) throw usageError('give --url or --data-dir, not both');
  const { source, url } = connectionString(options, env);
  if (url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw usageError(`${source} must be a connection string starting with postgres:// or postgresql://`);
    return { kind: 'postgres', url, description: redactConnectionString(url) };
  }
  const dataDir = resolve(cwd, options.dataDir ?? DEFAULT_DATA_DIR);
  const shown = relative(cwd, dataDir);
  const description = shown === '' || shown.startsWith('..') || isAbsolute(shown) ? dataDir : `./${shown}`;
  return { kind: 'pglite', dataDir, description, fallback: options.dataDir === undefined };
}

/** Where notes for the user go (stderr). */
export type Notify = (line: string) => void;

/** A client on the target: `close()` releases everything, the embedded database's lock included. */
export interface OpenClient {
  target: Target;
  client: MessageDbClient;
  close(): Promise<void>;
}

/**
 * The lock file every opener of an embedded directory leaves in it while it holds it (its drafts
 * start with the same name). Not a sign of foreign files: the directory may be held, or be left by
 * a process that is gone, and opening it then says so (DataDirLockedError) or takes it over.
 */
const LOCK_FILE_PREFIX = 'messagedb.lock';

const connectConfig = (url: string) => ({ connectionString: url, connectTimeoutMs: 10_000, applicationName: 'messagedb-cli' });

/**
 * Check an embedded directory; says on stderr what is used and whether it is new. The engine locks
 * it when it opens, like any opener's (DataDirLockedError while another one has it).
 */
function prepareEmbedded(target: Extract<Target, { kind: 'pglite' }>, notify: Notify): { created: boolean } {
  if (existsSync(target.dataDir) && !statSync(target.dataDir).isDirectory()) {
    throw usageError(`${target.description} is not a directory`);
  }
  if (existsSync(target.dataDir) && !existsSync(join(target.dataDir, 'PG_VERSION'))) {
    const others = readdirSync(target.dataDir).filter((name) => !name.startsWith(LOCK_FILE_PREFIX));
    // PGlite would run initdb into any directory; refuse one that holds something else.
    if (others.length > 0) throw usageError(`${target.description} is not an embedded database directory (it has files but no PG_VERSION)`);
  }
  const created = !existsSync(join(target.dataDir, 'PG_VERSION'));
  if (target.fallback) notify(`using the embedded database in ${target.description} (no --url, MESSAGE_DB_URL or DATABASE_URL)`);
  return { created };
}

function announceCreated(target: Target, installed: boolean, notify: Notify): void {
  notify(`created the embedded database in ${target.description}${installed ? ` and installed Message DB ${MESSAGE_DB_VERSION}` : ''}`);
}

/**
 * Open a client on the target. `install`: install Message DB in a new embedded database (a server's
 * database is never changed unasked: only `messagedb install` installs there).
 */
export async function openClient(target: Target, notify: Notify, options: { install: boolean }): Promise<OpenClient> {
  if (target.kind === 'postgres') {
    const client = await MessageDbClient.connect(connectConfig(target.url));
    return { target, client, close: () => client.close() };
  }
  const { created } = prepareEmbedded(target, notify);
  const client = await MessageDbClient.embedded({ dataDir: target.dataDir, install: options.install });
  if (created) announceCreated(target, options.install, notify);
  return { target, client, close: () => client.close() };
}
