/**
 * The command's help, and its one-line errors for a database it cannot use: unreachable, missing,
 * or a bad connection string; never a stack trace, never a password.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort } from '../support/test-server.ts';
import { testServerUrl } from '../support/databases.ts';
import { assertFails, assertOk, runCli } from './cli-process.ts';

/** A server that is never reached: these errors come before anything is opened. */
const unusedUrl = 'postgres://nobody@127.0.0.1:1/unused';

const commands = ['install', 'version', 'write', 'read', 'tail', 'last', 'stats', 'consumers', 'demo', 'bench'];

describe('messagedb help', () => {
  test('--help on every command exits 0 and shows examples', async () => {
    const results = await Promise.all(commands.map((command) => runCli([command, '--help'])));
    for (const [index, command] of commands.entries()) {
      const result = results[index]!;
      assertOk(result);
      assert.match(result.stdout, new RegExp(`^Usage: messagedb ${command} `), command);
      assert.match(result.stdout, /\nExamples:\n {2}\$ /, command);
    }
  });

  test('the program help lists every command', async () => {
    const result = await runCli(['--help']);
    assertOk(result);
    for (const command of commands) assert.match(result.stdout, new RegExp(`\\n  ${command} `), command);
  });

  test('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    assertOk(result);
    assert.equal(result.stdout.trim(), '0.1.0');
  });

  test('an unknown command exits 2 with a suggestion', async () => {
    assertFails(await runCli(['raed', 'account']), 2, /unknown command 'raed'.*Did you mean read\?/);
  });
});

describe('messagedb errors for a database it cannot use', () => {
  test('an unreachable server exits 4 in one line, without the password', async () => {
    const port = await freePort();
    const result = await runCli(['read', 'account-1', '--url', `postgres://someone:hunter2@127.0.0.1:${port}/nowhere`]);
    assertFails(result, 4, new RegExp(`cannot reach postgres://someone:\\*\\*\\*@127\\.0\\.0\\.1:${port}/nowhere: .*ECONNREFUSED`));
    assert.ok(!result.stderr.includes('hunter2'));
  });

  test('a database that does not exist exits 4', async () => {
    const url = new URL(testServerUrl());
    url.pathname = '/messagedb_no_such_database';
    assertFails(await runCli(['version', '--url', url.toString()]), 4, /cannot connect to .*messagedb_no_such_database.*does not exist/);
  });

  test('a connection string that is not postgres:// exits 2, naming where it came from', async () => {
    assertFails(await runCli(['version', '--url', 'mysql://localhost/x']), 2, /^messagedb: --url must be a connection string/);
    assertFails(await runCli(['version'], { env: { DATABASE_URL: 'localhost:5432' } }), 2, /^messagedb: DATABASE_URL must be a connection string/);
  });

  test('--url and --data-dir together exit 2', async () => {
    assertFails(await runCli(['version', '--url', unusedUrl, '--data-dir', '/tmp/x']), 2, /give --url or --data-dir, not both/);
  });

  test('--json and --table together exit 2', async () => {
    assertFails(await runCli(['version', '--url', unusedUrl, '--json', '--table']), 2, /give --json or --table, not both/);
  });
});
