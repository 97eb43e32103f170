/**
 * `npm run test:soak`: the reliability suite at the full size of issue 7 (MESSAGE_DB_SOAK=1), one
 * file at a time so the load run has the machine to itself, with an hour per file instead of
 * `npm test`'s four minutes. The figures of each run are appended, one JSON line per suite, to
 * MESSAGE_DB_RELIABILITY_REPORT when it is set (RELIABILITY.md records a real run's).
 *
 * Usage: node --import tsx test/reliability/soak.ts [test files]   (default: every test/reliability/*.test.ts)
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer } from '../support/test-server.ts';

const given = process.argv.slice(2);
const files =
  given.length > 0
    ? given
    : readdirSync('test/reliability')
        .filter((name) => name.endsWith('.test.ts'))
        .sort()
        .map((name) => join('test/reliability', name));

const server = await startTestServer();
process.stderr.write(`test server: ${server.description}\n`);
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=3600000', ...files], {
  stdio: 'inherit',
  env: { ...process.env, MESSAGE_DB_SOAK: '1', MESSAGE_DB_TEST_URL: server.url },
});
const code = await new Promise<number>((resolve) => child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
await server.stop();
process.exit(code);
