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

process.exitCode = await run(process.argv);
