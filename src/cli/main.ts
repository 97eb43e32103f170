#!/usr/bin/env node
/**
 * The `messagedb` bin (package.json `bin`, built to dist/cli/main.js). Everything is in program.ts.
 */
import { ExitCode } from './cli-error.js';
import { run } from './program.js';

// A reader that goes away early (`messagedb read account | head`) is not an error. The listener
// stays for the whole process: the help is written, and may fail, after run() has returned.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(ExitCode.ok);
  throw error;
});

const exitCode = await run(process.argv);
// run() has stopped listening, but Node may take a moment to exit: a SIGINT now (npm forwards the
// terminal's Ctrl-C a few ms after the command got it) would kill the process by the signal, and
// npm would report 130 for a command that ended with 0. Exit with the command's own code instead.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(exitCode));
process.exitCode = exitCode;
