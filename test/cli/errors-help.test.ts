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

const commands = ['install', 'version', 'write', 'read', 'tail', 'last', 'stats', 'consumers', 'console', 'demo', 'bench'];

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
    assertFails(await runCli(['version', '--url', url.toString()]), 4, /the database of .*messagedb_no_such_database does not exist/);
  });

  test('a connection string that is not postgres:// exits 2, naming where it came from', async () => {
    assertFails(await runCli(['version', '--url', 'mysql://localhost/x']), 2, /^messagedb: --url must be a connection string/);
    assertFails(await runCli(['version'], { env: { DATABASE_URL: 'localhost:5432' } }), 2, /^messagedb: DATABASE_URL must be a connection string/);
  });

  test('a connection string the driver cannot parse exits 2, naming --url or the variable it came from, not the library option', async () => {
    const bad = 'postgres://localhost:99999/x';
    const fromFlag = await runCli(['read', 'account-1', '--url', bad]);
    assertFails(fromFlag, 2, /^messagedb: --url is not a valid postgres:\/\/ URL/);
    const fromEnvironment = await runCli(['version'], { env: { MESSAGE_DB_URL: bad } });
    assertFails(fromEnvironment, 2, /^messagedb: MESSAGE_DB_URL is not a valid postgres:\/\/ URL/);
    assert.doesNotMatch(fromFlag.stderr + fromEnvironment.stderr, /connectionString/);
    // bench reads the URL itself, to name the database it creates.
    assertFails(await runCli(['bench', '--url', bad]), 2, /^messagedb: --url is not a valid postgres:\/\/ URL/);
    assertFails(await runCli(['bench'], { env: { DATABASE_URL: bad } }), 2, /^messagedb: DATABASE_URL is not a valid postgres:\/\/ URL/);
  });

  test('--url and --data-dir together exit 2', async () => {
    assertFails(await runCli(['version', '--url', unusedUrl, '--data-dir', '/tmp/x']), 2, /give --url or --data-dir, not both/);
  });

  test('--json and --table together exit 2', async () => {
    assertFails(await runCli(['version', '--url', unusedUrl, '--json', '--table']), 2, /give --json or --table, not both/);
  });
});

describe('messagedb option values', () => {
  test('numeric options take decimal digits only, and text options refuse empty text, before anything is opened', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['read', 'account-1', '--position', '1e3'], /--position .* must be an integer >= 0, in decimal digits \(got "1e3"\)/],
      [['read', 'account-1', '--position', '0x1'], /--position .* \(got "0x1"\)/],
      [['read', 'account-1', '--position', ' '], /--position .* \(got " "\)/],
      [['read', 'account-1', '--limit', '1.0'], /--limit .* \(got "1.0"\)/],
      [['read', 'account-1', '--type', ''], /--type .* must not be empty/],
      [['read', 'account', '--correlation', ''], /--correlation .* must not be empty/],
      [['tail', 'account', '--poll-interval-ms', '2e2'], /--poll-interval-ms .* \(got "2e2"\)/],
      [['last', 'account-1', '--type', ''], /--type .* must not be empty/],
      [['write', 'account-1', 'Opened', '--expected-version', '0x0'], /--expected-version .* \(got "0x0"\)/],
      [['write', 'account-1', 'Opened', '--id', 'not-a-uuid'], /^messagedb: --id must be a UUID/],
      [['write', 'account-1', ''], /^messagedb: <type> must be a non-empty string/],
      [['stats', '--category', ''], /--category .* must not be empty/],
      [['consumers', '--category', ' '], /--category .* must not be empty/],
      [['consumers', '--watch', '1e3'], /--watch takes an interval of at least 100 ms \(got 1e3\)/],
      [['consumers', '--metrics-port', ''], /--metrics-port takes a port from 0 to 65535/],
      [['consumers', '--metrics-port', '0x50'], /--metrics-port takes a port from 0 to 65535/],
      [['bench', '--seconds', '1e0'], /--seconds .* must be a number > 0, in decimal notation/],
      [['bench', '--rounds', '0x3'], /--rounds .* \(got "0x3"\)/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli([...args, '--url', unusedUrl])));
    for (const [index, [, pattern]] of cases.entries()) assertFails(results[index]!, 2, pattern);
    assertFails(await runCli(['read', 'account-1', '--data-dir', '']), 2, /--data-dir .* must not be empty/);
  });
});
