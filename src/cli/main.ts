#!/usr/bin/env node
/**
 * The `messagedb` bin (package.json `bin`, built to dist/cli/main.js). Everything is in program.ts.
 */
import { run } from './program.js';

process.exitCode = await run(process.argv);
