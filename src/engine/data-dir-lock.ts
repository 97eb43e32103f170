/**
 * One opener at a time on an embedded database directory. PGlite is a single-user PostgreSQL with no
 * postmaster.pid check: two openers of one directory, in one process or two, both succeed, then
 * overwrite each other's files, and one side's acknowledged writes are gone after a reopen.
 *
 * Every opener (the library and the CLI alike) takes this lock before PGlite opens the directory:
 * an entry in a registry shared by the whole process (keyed by the directory's real path), and a lock
 * file in the directory, created exclusively, that names the holder. A lock file left by a process
 * that is gone is taken over.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { DataDirLockedError, InvalidArgumentError, type DataDirHolder } from '../vocabulary/errors.js';

/** The lock file's name in the data directory; drafts and the takeover guard start with it too. */
export const LOCK_FILE_NAME = 'messagedb.lock';

/** The lock on one directory, held until `release()` (or the end of the process). */
export interface DataDirLock {
  /** The directory's real path. */
  readonly dataDir: string;
  /** Remove the lock file (if it is still ours) and let another opener in. Idempotent. */
  release(): void;
}

interface Held {
  lockPath: string;
  token: string;
  holder: DataDirHolder;
}

/**
 * What a lock file says. `token` names the lock; `processStart` (ms since the epoch) tells this
 * process from an earlier one that had the same pid, as after a container restart.
 */
interface LockRecord extends DataDirHolder {
  token: string;
  processStart: number;
}

/** One attempt to take a directory: our record is written to `draft` first, then linked or renamed into place. */
interface Claim {
  dataDir: string;
  lockPath: string;
  draft: string;
  content: string;
  token: string;
}

// On globalThis under a Symbol.for key, so two copies of this package in one process see each other's
// locks. Keep this shape stable: another copy may read it.
interface Registry {
  locks: Map<string, Held>;
  exitHookInstalled: boolean;
}
const registryKey = Symbol.for('messagedb.dataDirLocks');
const processGlobals = globalThis as Record<symbol, Registry | undefined>;
processGlobals[registryKey] ??= { locks: new Map(), exitHookInstalled: false };
const registry: Registry = processGlobals[registryKey];

/**
 * The filesystem path PGlite keeps `dataDir` in, as PGlite reads the option; undefined for its
 * in-memory and browser stores, which no other opener can share.
 */
function pathOnDisk(dataDir: string): string | undefined {
  if (/^(memory|idb|opfs-ahp):\/\//.test(dataDir)) return undefined;
  return dataDir.startsWith('file://') ? dataDir.slice('file://'.length) : dataDir;
}

/** The command line, without arguments that may carry data or secrets: `node main.js write`. */
function commandLine(): string {
  const [runtime = 'node', script, first] = process.argv;
  const words = [basename(runtime), ...(script === undefined ? [] : [basename(script)])];
  if (first !== undefined && /^[a-z][a-z-]{0,30}$/.test(first)) words.push(first);
  return words.join(' ');
}

/** The holder as the error names it (the token stays in the file). */
function holderOf({ pid, hostname: host, since, command }: LockRecord): DataDirHolder {
  return { pid, hostname: host, since, command };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file's record: undefined when there is no file, 'unreadable' when it is not one of ours. */
function readRecord(path: string): LockRecord | 'unreadable' | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const record = JSON.parse(text) as Partial<LockRecord>;
    const { pid, hostname: host, since, command, token, processStart } = record;
    if (
      Number.isSafeInteger(pid) &&
      typeof host === 'string' &&
      typeof since === 'string' &&
      typeof command === 'string' &&
      typeof token === 'string' &&
      typeof processStart === 'number'
    ) {
      return { pid: pid as number, hostname: host, since, command, token, processStart };
    }
  } catch {
    // Not JSON: fall through.
  }
  return 'unreadable';
}

/** When this process started, the same in every worker thread; a few ms of jitter from the clock reads. */
function processStart(): number {
  return Math.round(Date.now() - process.uptime() * 1000);
}

/**
 * Whether the holder may still be using the directory. A pid on another host cannot be checked, so
 * it is respected. Our own pid holds if it is this process (a worker thread, whose registry is its
 * own, or a client of this thread); otherwise an earlier process with the same pid left it.
 */
function isAlive(record: LockRecord): boolean {
  if (record.hostname !== hostname()) return true;
  if (record.pid !== process.pid) return isRunning(record.pid);
  if ([...registry.locks.values()].some((held) => held.token === record.token)) return true;
  return Math.abs(record.processStart - processStart()) < 1000;
}

/** Create `path` exclusively with the draft's whole content (a hard link), so no reader sees it half written. */
function createExclusive(path: string, draft: string, content: string): void {
  try {
    linkSync(draft, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || !['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code ?? '')) throw error;
    // A filesystem without hard links: O_EXCL, then the content.
    writeFileSync(path, content, { flag: 'wx' });
  }
}

function removeIfOurs(path: string, token: string): void {
  try {
    const record = readRecord(path);
    if (typeof record === 'object' && record.token === token) unlinkSync(path);
  } catch {
    // Already gone, or the directory with it.
  }
}

/**
 * Replace a stale lock file by ours. Takeovers are serialised by a guard file, and the stale file is
 * replaced by a rename (never unlinked first), so at no moment can a plain exclusive create slip in:
 * of two openers taking over one stale lock, one wins and the other sees the winner's lock. A guard
 * left by a process that died within those few milliseconds is removed; only that case, with two
 * openers racing on it, could still let both through.
 */
function takeOver({ dataDir, lockPath, draft, content, token }: Claim, stale: string): boolean {
  const guardPath = `${lockPath}.takeover`;
  try {
    createExclusive(guardPath, draft, content);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const guard = readRecord(guardPath);
    // Unreadable: half written on a filesystem without hard links, so in use; or damaged, for the user to delete.
    if (guard === 'unreadable') throw new DataDirLockedError(dataDir, undefined);
    if (guard !== undefined && isAlive(guard)) throw new DataDirLockedError(dataDir, holderOf(guard));
    if (guard !== undefined) rmSync(guardPath, { force: true });
    return false;
  }
  try {
    if (readFileSync(lockPath, 'utf8') !== stale) return false;
    renameSync(draft, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  } finally {
    removeIfOurs(guardPath, token);
  }
}

/** Take the lock file, or throw DataDirLockedError naming its live holder. */
function claimLockFile(ours: Claim): void {
  const { dataDir, lockPath, draft, content } = ours;
  // Each turn either wins or sees a lock change hands (a release, another takeover): a few suffice.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      createExclusive(lockPath, draft, content);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let stale: string;
    try {
      stale = readFileSync(lockPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const record = readRecord(lockPath);
    // Not written by this library (a draft is complete before it is linked): leave it to the user.
    if (record === 'unreadable') throw new DataDirLockedError(dataDir, undefined);
    if (record !== undefined && isAlive(record)) throw new DataDirLockedError(dataDir, holderOf(record));
    if (takeOver(ours, stale)) return;
  }
  throw new DataDirLockedError(dataDir, undefined);
}

function releaseAllOnExit(): void {
  // Synchronous: an 'exit' handler cannot wait. A lock that is no longer ours is left alone.
  for (const held of registry.locks.values()) removeIfOurs(held.lockPath, held.token);
}

/**
 * Lock PGlite's `dataDir` for this opener (creating the directory if needed). Throws
 * DataDirLockedError naming the holder while another client in this process, or another live
 * process, has it open. Returns undefined for PGlite's in-memory and browser stores (`memory://`).
 *
 * @example
 * const lock = lockDataDir('./data');
 * try { ... } finally { lock?.release(); }
 */
export function lockDataDir(dataDir: string): DataDirLock | undefined {
  if (typeof dataDir !== 'string' || dataDir === '') {
    throw new InvalidArgumentError('dataDir', `must be a directory path (got ${typeof dataDir === 'string' ? 'an empty string' : typeof dataDir})`);
  }
  const onDisk = pathOnDisk(dataDir);
  if (onDisk === undefined) return undefined;
  mkdirSync(onDisk, { recursive: true });
  const key = realpathSync(onDisk);
  const inProcess = registry.locks.get(key);
  if (inProcess !== undefined) throw new DataDirLockedError(dataDir, inProcess.holder);

  const token = randomUUID();
  const holder: DataDirHolder = { pid: process.pid, hostname: hostname(), since: new Date().toISOString(), command: commandLine() };
  const content = `${JSON.stringify({ ...holder, token, processStart: processStart() })}\n`;
  const lockPath = join(key, LOCK_FILE_NAME);
  const draft = `${lockPath}.${token}`;
  writeFileSync(draft, content, { flag: 'wx' });
  try {
    claimLockFile({ dataDir, lockPath, draft, content, token });
  } finally {
    rmSync(draft, { force: true });
  }
  // Everything from the check above to here is synchronous, so no other opener in this process ran between.
  registry.locks.set(key, { lockPath, token, holder });
  if (!registry.exitHookInstalled) {
    registry.exitHookInstalled = true;
    process.on('exit', releaseAllOnExit);
  }
  let released = false;
  return {
    dataDir: key,
    release() {
      if (released) return;
      released = true;
      registry.locks.delete(key);
      removeIfOurs(lockPath, token);
    },
  };
}
