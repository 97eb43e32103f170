/**
 * Child processes for the process-crash suite: a test support script run with tsx, its stdout
 * read line by line, killed (SIGKILL) or stopped (SIGTERM) by the parent.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  /** Lines the child printed so far. */
  readonly lines: number;
  readonly alive: boolean;
  /** Resolves when the child exits: its exit code, or the signal that ended it. */
  readonly exited: Promise<number | NodeJS.Signals>;
  kill(signal: NodeJS.Signals): void;
}

/** Run `script` (a path from the repository root) with `env` added; `onLine` sees each stdout line. */
export function startChild(script: string, env: Record<string, string>, onLine: (line: string) => void): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let lines = 0;
  let alive = true;
  // Lines are single writes shorter than PIPE_BUF, so a SIGKILL never leaves half a line.
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines++;
    onLine(line);
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.on('close', (code, signal) => {
      alive = false;
      resolve(signal ?? code ?? 0);
    }),
  );
  return {
    get lines() {
      return lines;
    },
    get alive() {
      return alive;
    },
    exited,
    kill: (signal) => {
      child.kill(signal);
    },
  };
}
