/**
 * Runs the built `messagedb` bin (dist/cli/main.js, built by `npm test`'s pretest) as a child
 * process, the way a user runs it: stdout and stderr are pipes, so results come as NDJSON.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onFileEnd } from '../support/databases.ts';

export const binPath = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

if (!existsSync(binPath)) throw new Error(`${binPath} is missing: run \`npm run build\` (npm test does it first)`);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Added to the environment, which never carries MESSAGE_DB_URL or DATABASE_URL unless given here. */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MESSAGE_DB_URL;
  delete env.DATABASE_URL;
  return { ...env, ...extra };
}

/** Start the bin; the caller reads its streams. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [binPath, ...args], { cwd: options.cwd, env: childEnv(options.env) });
}

/** Run the bin to its end. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The NDJSON lines of stdout, parsed. */
export function records<T = Record<string, unknown>>(result: CliResult): T[] {
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Assert the command succeeded, showing its stderr when it did not. */
export function assertOk(result: CliResult): void {
  assert.equal(result.code, 0, `exit ${result.code}, stderr: ${result.stderr}`);
}

/**
 * Assert the command failed with `code` and one line on stderr (apart from notes about which
 * database was used) matching `pattern`, and no stack trace.
 */
export function assertFails(result: CliResult, code: number, pattern: RegExp): void {
  const lines = result.stderr.split('\n').filter((line) => line !== '' && !/^messagedb: (using|created) the embedded/.test(line));
  assert.equal(result.code, code, `exit ${result.code}, stderr: ${result.stderr}`);
  assert.equal(lines.length, 1, `one error line, got: ${result.stderr}`);
  assert.match(lines[0] ?? '', /^messagedb: /);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

/** A new empty working directory, removed when the test file ends. */
export function temporaryDirectory(prefix = 'messagedb-cli-'): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  onFileEnd(async () => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Collects a running child's stdout lines and waits for a number of them. */
export class LineReader {
  readonly lines: string[] = [];
  stderr = '';
  #exited = false;
  #waiters: Array<() => void> = [];

  constructor(child: ChildProcessWithoutNullStreams) {
    child.once('close', () => {
      this.#exited = true;
      for (const wake of this.#waiters.splice(0)) wake();
    });
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts.filter((line) => line !== ''));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Resolves once `predicate` holds; fails after `timeoutMs`, or as soon as the child has ended without it. */
  async until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const problem = this.#exited ? 'the command ended' : Date.now() > deadline ? 'timed out' : undefined;
      if (problem !== undefined) throw new Error(`${problem} waiting for ${what}; stdout: ${this.lines.join('\n')}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
}

/** The exit code of a child that is ending. */
export function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
