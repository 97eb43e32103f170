/**
 * The database a bench runs on: a fresh `messagedb_bench_<random>` on a given server, with
 * Message DB installed by the client's own `install()`, dropped afterwards. The role of the
 * server's URL needs the CREATEDB privilege.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { MessageDbClient } from '../../store/client.js';
import { redactConnectionString } from '../../store/config.js';
import { fromPostgresError } from '../../vocabulary/postgres-error.js';

/** A fresh benchmark database; `url` connects to it, `drop()` removes it. */
export interface BenchDatabase {
  name: string;
  url: string;
  /** Safe to print: no password. */
  description: string;
  serverVersion: string;
  drop(): Promise<void>;
}

/** One statement on a connection of its own; an unreachable server fails as a ConnectionError. */
async function admin<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'messagedb-bench', connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    return (await client.query<T>(text)).rows;
  } catch (error) {
    throw fromPostgresError(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The role `serverUrl` logs in as, and whether it may create databases (CREATEDB, or a superuser). */
export async function createDatabasePrivilege(serverUrl: string): Promise<{ role: string; allowed: boolean }> {
  const [row] = await admin<{ role: string; allowed: boolean }>(
    serverUrl,
    'SELECT rolname AS role, rolcreatedb OR rolsuper AS allowed FROM pg_roles WHERE rolname = current_user',
  );
  return { role: row?.role ?? 'unknown', allowed: row?.allowed === true };
}

/**
 * Create `messagedb_bench_<random>` on the server of `serverUrl` (any database of it) and install
 * Message DB in it. A role without CREATEDB fails with the server's error (SQLSTATE 42501).
 */
export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `messagedb_bench_${randomBytes(5).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const drop = async (): Promise<void> => {
    await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  try {
    const client = await MessageDbClient.connect({ connectionString: url.toString(), maxPoolSize: 1 });
    try {
      await client.install();
    } finally {
      await client.close();
    }
    const [row] = await admin<{ server_version: string }>(url.toString(), 'SHOW server_version');
    return { name, url: url.toString(), description: redactConnectionString(url.toString()), serverVersion: row?.server_version ?? 'unknown', drop };
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
}

/** `ANALYZE message_store.messages`: before autovacuum runs, a fresh table's category read may pick a full scan and sort. */
export async function analyze(url: string): Promise<void> {
  await admin(url, 'ANALYZE message_store.messages');
}
