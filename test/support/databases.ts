/**
 * Real databases for tests: a fresh database per caller on the test server (Message DB installed
 * from the npm package), or an embedded PGlite. Isolation inside one database comes from data:
 * every test takes a random category.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { after } from 'node:test';
import { MessageDbClient, type ConnectConfig, type EmbeddedConfig } from '../../src/index.ts';
import { createTestClient } from '../../src/testing/index.ts';

// Cleanups run once, when the test file ends (an `after` registered inside a hook would run as
// soon as that hook finished).
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** Run `cleanup` when the test file ends, newest first. */
export function onFileEnd(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

export function testServerUrl(): string {
  const url = process.env.MESSAGE_DB_TEST_URL;
  if (!url) throw new Error('MESSAGE_DB_TEST_URL is not set: run the tests with `npm test` (it starts a server), or set it');
  return url;
}

/** A random camelCase category, unique to one test. */
export function randomCategory(prefix = 'test'): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

/** A random stream name in a random (or given) category. */
export function randomStreamName(category = randomCategory()): string {
  return `${category}-${randomBytes(4).toString('hex')}`;
}

/** Run SQL as the test server's admin (for set-up and fault injection, never for what is under test). */
export async function adminQuery<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  values: unknown[] = [],
  url = testServerUrl(),
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new empty database on the test server, dropped when the test file ends. */
export async function createDatabase(): Promise<TestDatabase> {
  const name = `mdbtest_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;
  const database = {
    name,
    url: url.toString(),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
  onFileEnd(() => database.drop());
  return database;
}

/** A client on a fresh database with Message DB installed; closed when the test file ends. */
export async function postgresClient(config: ConnectConfig = {}, database?: TestDatabase): Promise<MessageDbClient> {
  const target = database ?? (await createDatabase());
  const client = await MessageDbClient.connect({ ...config, connectionString: target.url });
  await client.install();
  onFileEnd(() => client.close());
  return client;
}

/**
 * An embedded (PGlite) client, in memory, installed; closed when the test file ends. In memory and
 * installed, it is a copy of the process's template (messagedb/testing's createTestClient), which
 * skips PGlite's start-up and the install; a data directory, or no install, opens one as asked.
 */
export async function pgliteClient(config: EmbeddedConfig = {}): Promise<MessageDbClient> {
  const { dataDir, install, loadDataDir, ...rest } = config;
  const client =
    dataDir === undefined && install === undefined && loadDataDir === undefined ? await createTestClient(rest) : await MessageDbClient.embedded(config);
  onFileEnd(() => client.close());
  return client;
}

export interface EngineUnderTest {
  name: 'postgres' | 'pglite';
  open(config?: ConnectConfig & EmbeddedConfig): Promise<MessageDbClient>;
}

/** Both engines, for contract suites that must behave identically on each. */
export const engines: EngineUnderTest[] = [
  { name: 'postgres', open: (config) => postgresClient(config) },
  { name: 'pglite', open: (config) => pgliteClient(config) },
];
