/**
 * `messagedb bench`, run as a subprocess with the shortest settings (`--seconds 0.2 --rounds 1`):
 * on the test server (a fresh database, dropped afterwards, pgbench beside it when it is on the
 * PATH), without pgbench, on an in-memory PGlite, and with a role that may not create databases.
 * Nothing here checks a figure, only that every row was measured.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { adminQuery, onFileEnd, testServerUrl } from '../support/databases.ts';
import { LineReader, assertFails, assertOk, exitCode, records, runCli, spawnCli, temporaryDirectory, type CliResult } from './cli-process.ts';

const quick = ['bench', '--seconds', '0.2', '--rounds', '1'];

interface BenchRecord {
  kind: 'run' | 'throughput' | 'latency';
  [field: string]: unknown;
}

const throughputKeys = [
  'client.single-write',
  'client.batch-10',
  'client.batch-100',
  'client.batch-1000',
  'client.transaction-100',
  'client.stream-read',
  'client.category-read',
  'client.consumer',
];

const ofKind = (result: CliResult, kind: BenchRecord['kind']): BenchRecord[] => records<BenchRecord>(result).filter((record) => record.kind === kind);

/** Every throughput row of `keys` has a positive rate, and both latency rows measured messages. */
function assertMeasured(result: CliResult, keys: readonly string[], latency: boolean): void {
  const rows = ofKind(result, 'throughput');
  assert.deepEqual(
    rows.map((row) => row.workload),
    keys,
  );
  for (const row of rows) assert.ok((row.messagesPerSecond as number) > 0, `${String(row.workload)}: ${String(row.messagesPerSecond)}`);
  const latencies = ofKind(result, 'latency');
  assert.deepEqual(
    latencies.map((row) => row.listen),
    latency ? [true, false] : [],
  );
  for (const row of latencies) assert.ok((row.messages as number) > 0 && (row.p99Ms as number) > 0);
}

async function databaseExists(name: string): Promise<boolean> {
  return (await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
}

describe('messagedb bench', () => {
  test('on a server it measures every workload beside pgbench in a fresh database, then drops it, never printing the password', async () => {
    const url = testServerUrl();
    const result = await runCli([...quick, '--url', url]);
    assertOk(result);
    assertMeasured(result, throughputKeys, true);
    const [run] = ofKind(result, 'run');
    assert.equal(run?.engine, 'postgres');
    assert.match(String(run?.database), /^messagedb_bench_[0-9a-f]{10}$/);
    assert.equal(await databaseExists(String(run?.database)), false);
    assert.match(result.stderr, new RegExp(`dropped database ${String(run?.database)}`));
    if (run?.pgbench !== null) {
      for (const row of ofKind(result, 'throughput')) {
        assert.ok((row.pgbenchMessagesPerSecond as number) > 0 && (row.ratio as number) > 0, String(row.workload));
      }
    }
    const password = decodeURIComponent(new URL(url).password);
    if (password !== '') {
      assert.ok(!result.stdout.includes(password) && !result.stderr.includes(password), 'the password is never printed');
      assert.match(String(run?.target), /^postgres:\/\/[^:]+:\*\*\*@/);
    }
  });

  test('without pgbench on the PATH it says so, measures the client alone and exits 0', async () => {
    const result = await runCli([...quick, '--only', 'reads', '--url', testServerUrl()], { env: { PATH: temporaryDirectory() } });
    assertOk(result);
    assert.match(result.stderr, /pgbench was not found on the PATH/);
    assertMeasured(result, ['client.stream-read', 'client.category-read'], false);
    for (const row of ofKind(result, 'throughput')) assert.equal(row.pgbenchMessagesPerSecond, null);
  });

  test('with no server it measures an in-memory PGlite, writes nothing to the working directory, and says pgbench needs a server', async () => {
    const cwd = temporaryDirectory();
    const result = await runCli(quick, { cwd });
    assertOk(result);
    assert.match(result.stderr, /pgbench needs a server/);
    assert.equal(ofKind(result, 'run')[0]?.engine, 'pglite');
    assertMeasured(result, throughputKeys, true);
    assert.deepEqual(readdirSync(cwd), []);
    assert.ok(!existsSync(`${cwd}/.messagedb`));
  });

  test('one Ctrl-C delivered twice, as npx does (the terminal and npm both send SIGINT), still drops the bench database: it is not a second Ctrl-C', async () => {
    const child = spawnCli(['bench', '--seconds', '30', '--rounds', '1', '--only', 'reads', '--url', testServerUrl()], { env: { PATH: temporaryDirectory() } });
    const reader = new LineReader(child);
    let database: string | undefined;
    try {
      await reader.until(() => /measuring \d+ workloads/.test(reader.stderr), 'the bench to start measuring', 120_000);
      database = /created database (messagedb_bench_[0-9a-f]+)/.exec(reader.stderr)?.[1];
      assert.ok(database, reader.stderr);
      const name = database;
      onFileEnd(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      // npm forwards the SIGINT it got to the command about 13 ms after the terminal's (measured).
      child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGINT');
      assert.equal(await exitCode(child), 130, reader.stderr);
    } finally {
      child.kill('SIGKILL');
    }
    assert.match(reader.stderr, new RegExp(`dropped database ${database}`));
    assert.equal(await databaseExists(database), false);
  });

  test('a role without CREATEDB fails with exit code 1, naming the privilege', async () => {
    const role = `bench_${randomBytes(5).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await adminQuery(`CREATE ROLE ${role} LOGIN NOCREATEDB PASSWORD '${password}'`);
    onFileEnd(() => adminQuery(`DROP ROLE IF EXISTS ${role}`));
    const url = new URL(testServerUrl());
    url.username = role;
    url.password = password;
    const result = await runCli([...quick, '--url', url.toString()]);
    assertFails(result, 1, new RegExp(`role ${role} lacks the CREATEDB privilege`));
    assert.ok(!result.stderr.includes(password));
  });
});
