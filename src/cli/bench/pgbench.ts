/**
 * The server's own ceiling: the pgbench anchor scripts (the SQL below), run
 * with `pgbench -n -M prepared` against the bench database, with `search_path` passed through
 * PGOPTIONS (the functions reference each other unqualified). Rates are in messages per second:
 * transactions per second times the messages each transaction writes or reads. The connection goes
 * to pgbench in libpq's PG* variables, so no password shows on its command line (`ps`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Workload } from './measure.js';

const run = promisify(execFile);

/** One anchor script and how many messages each of its transactions handles. */
export interface AnchorScript {
  name: string;
  text: string;
  messagesPerTransaction: number;
}

const pick = '\\set s random(1, 100000)';
const hundred = (line: (index: number) => string): string[] => Array.from({ length: 100 }, (_, index) => line(index + 1));

/** The anchor scripts, verbatim in meaning from the performance doc. */
export const anchorScripts = {
  w_distinct: {
    name: 'w_distinct',
    messagesPerTransaction: 1,
    text: [
      pick,
      `SELECT message_store.write_message(gen_random_uuid()::varchar, 'account-' || :s, 'Deposited', '{"amount": 100, "currency": "USD"}'::jsonb, '{"correlationStreamName": "x-1"}'::jsonb);`,
    ].join('\n'),
  },
  w_txn100: {
    name: 'w_txn100',
    messagesPerTransaction: 100,
    text: [
      pick,
      'BEGIN;',
      ...hundred(() => `SELECT message_store.write_message(gen_random_uuid()::varchar, 'batch-' || :s, 'Deposited', '{"amount": 100}'::jsonb);`),
      'COMMIT;',
    ].join('\n'),
  },
  w_pipe100: {
    name: 'w_pipe100',
    messagesPerTransaction: 100,
    text: [
      pick,
      '\\startpipeline',
      ...hundred(
        (index) => `SELECT message_store.write_message(gen_random_uuid()::varchar, 'pipe-' || :s || '-${index}', 'Deposited', '{"amount": 100}'::jsonb);`,
      ),
      '\\endpipeline',
    ].join('\n'),
  },
  r_stream_full: {
    name: 'r_stream_full',
    messagesPerTransaction: 1000,
    text: `SELECT * FROM message_store.get_stream_messages('bench-1', 0, 1000);`,
  },
  r_cat_full: {
    name: 'r_cat_full',
    messagesPerTransaction: 1000,
    text: `SELECT * FROM message_store.get_category_messages('batch', 1, 1000);`,
  },
} satisfies Record<string, AnchorScript>;

/** The pgbench version line, or undefined when pgbench is not on the PATH (of `env`). */
export async function pgbenchVersion(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  try {
    const { stdout } = await run('pgbench', ['--version'], { env });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/**
 * libpq environment for a connection URL; the password stays in the child's environment only. A
 * URL without a password leaves `env`'s PGPASSWORD (or ~/.pgpass) to libpq.
 */
function libpqEnvironment(url: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const parsed = new URL(url);
  const sslmode = parsed.searchParams.get('sslmode');
  return {
    ...env,
    // `?host=/run/postgresql` names a socket directory; an IPv6 host comes in brackets.
    PGHOST: parsed.searchParams.get('host') ?? parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    PGPORT: parsed.port === '' ? '5432' : parsed.port,
    PGUSER: decodeURIComponent(parsed.username) || env.PGUSER || 'postgres',
    ...(parsed.password === '' ? {} : { PGPASSWORD: decodeURIComponent(parsed.password) }),
    PGDATABASE: decodeURIComponent(parsed.pathname.slice(1)),
    ...(sslmode === null ? {} : { PGSSLMODE: sslmode }),
    PGOPTIONS: '-c search_path=message_store,public',
  };
}

/** `new Pgbench(url, config)`: `env` is the environment pgbench runs in (its PATH finds it); `signal` stops a run. */
export interface PgbenchConfig {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Runs anchor scripts against one database. */
export class Pgbench {
  readonly #directory = mkdtempSync(join(tmpdir(), 'messagedb-pgbench-'));
  readonly #environment: NodeJS.ProcessEnv;
  readonly #signal: AbortSignal | undefined;

  constructor(url: string, config: PgbenchConfig = {}) {
    this.#environment = libpqEnvironment(url, config.env ?? process.env);
    this.#signal = config.signal;
  }

  /** Transactions per second last measured per script and client count, to size `-t` runs. */
  readonly #lastTps = new Map<string, number>();

  /**
   * Messages per second of `script` over about `seconds` on `clients` connections. pgbench's -T
   * takes whole seconds, so a shorter run (a slice of an interleaved round) is a -t run sized from
   * the last rate measured for the script; the first run of a script is a -T 1 run.
   */
  async rate(script: AnchorScript, seconds: number, clients = 1): Promise<number> {
    const file = join(this.#directory, `${script.name}.sql`);
    writeFileSync(file, `${script.text}\n`);
    const key = `${script.name}/${clients}`;
    const last = this.#lastTps.get(key);
    const length =
      Number.isInteger(seconds) || last === undefined
        ? ['-T', String(Math.max(1, Math.round(seconds)))]
        : ['-t', String(Math.max(1, Math.round((last * seconds) / clients)))];
    const args = ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(Math.min(clients, 2)), ...length, '-f', file];
    const { stdout } = await run('pgbench', args, { env: this.#environment, maxBuffer: 1 << 20, signal: this.#signal });
    const failed = /number of failed transactions: (\d+)/.exec(stdout);
    if (failed !== null && failed[1] !== '0') throw new Error(`pgbench ${script.name}: ${failed[1]} failed transactions`);
    // No tps line: not one transaction finished within -T (a starved machine); no rate, not zero.
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    if (tps === null) return Number.NaN;
    this.#lastTps.set(key, Number(tps[1]));
    return Number(tps[1]) * script.messagesPerTransaction;
  }

  /**
   * `pgbench.<script>` as a workload of one connection (`pgbench.<script>-c<clients>` of more); its
   * warm-up is a -T 1 run that sizes the shorter ones.
   */
  workload(script: AnchorScript, clients = 1): Workload {
    const key = clients === 1 ? `pgbench.${script.name}` : `pgbench.${script.name}-c${clients}`;
    return { key, warmUpMs: 1000, run: (durationMs) => this.rate(script, durationMs / 1000, clients) };
  }

  close(): void {
    rmSync(this.#directory, { recursive: true, force: true });
  }
}
