/**
 * One process at a time on an embedded database directory. PGlite is a single-user PostgreSQL with
 * no postmaster.pid check: two processes opening the same directory both succeed and then overwrite
 * each other's files. The command holds a lock file (its pid) in the directory while it runs.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, ExitCode } from './cli-error.js';

const lockFileName = 'messagedb-cli.lock';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holder(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Take the lock on `dataDir` (created if missing); returns the release function. Fails with a
 * one-line error naming the holder's pid while another live process holds it; a lock left by a
 * process that is gone is taken over.
 */
export async function lockDataDir(dataDir: string, shownAs: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, lockFileName);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      // A crash must not leave the directory locked for a live process that reuses the pid.
      const releaseOnExit = (): void => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // Already released.
        }
      };
      process.once('exit', releaseOnExit);
      return async () => {
        process.removeListener('exit', releaseOnExit);
        if ((await holder(path)) === process.pid) await unlink(path).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = await holder(path);
      if (pid !== undefined && pid !== process.pid && isRunning(pid)) {
        throw new CliError(
          `the embedded database in ${shownAs} is in use by process ${pid} (PGlite allows one process at a time; ` +
            'use a PostgreSQL server with --url to share a database)',
          ExitCode.unavailable,
        );
      }
      await unlink(path).catch(() => {});
    }
  }
  throw new CliError(`could not lock the embedded database in ${shownAs}`, ExitCode.unavailable);
}
