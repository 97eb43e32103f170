/**
 * An elastic member's lease session: one connection of the client's pool, held for the member's
 * whole run as one open transaction, on which the member's advisory locks live. PostgreSQL releases
 * them when the session ends, whatever ends it: a clean stop, a crash, a lost connection, or
 * another member ending the session of a member gone silent. Statements on it run one at a time.
 */
import { randomInt } from 'node:crypto';
import type { MessageDbClient, Transaction } from '../store/client.js';
import { ClosedError } from '../vocabulary/errors.js';
import { MAX_ELASTIC_PARTITIONS } from './elastic-config.js';
import type { GroupLock } from './elastic-share.js';
import * as sql from './elastic-sql.js';

/** A lease session once open. */
export class LeaseSession {
  readonly groupKey: number;
  /** This member's key: its lock `(groupKey, memberKey)` says it is a member. */
  memberKey = 0;
  /** The session's backend. */
  pid = 0;
  /** performance.now() at the start of the last statement that succeeded: the server counts silence from no earlier. */
  lastStatementAt = 0;
  /** Settles when the session's transaction ends: resolves after close(), rejects when the connection was lost. */
  readonly ended: Promise<void>;
  readonly #release: () => void;
  #tx: Transaction | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(client: MessageDbClient, groupKey: number, opened: (error?: unknown) => void) {
    this.groupKey = groupKey;
    let release = (): void => {};
    const closing = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#release = release;
    this.ended = client.transaction(async (tx) => {
      this.#tx = tx;
      opened();
      await closing;
      // A failed unlock leaves the connection broken, so it is destroyed with its locks, not pooled.
      await tx.query(sql.unlockAllSql);
    });
    this.ended.catch((error: unknown) => opened(error));
  }

  /** Open a session and take a member key of the group. */
  static async open(client: MessageDbClient, groupKey: number): Promise<LeaseSession> {
    let settle: (error?: unknown) => void = () => {};
    const opened = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    const session = new LeaseSession(client, groupKey, (error) => settle(error));
    await opened;
    try {
      const [row] = await session.#run(sql.backendPidSql, []);
      session.pid = Number(row?.pid);
      for (;;) {
        const key = randomInt(MAX_ELASTIC_PARTITIONS, 0x7fffffff);
        if (await session.tryLock(key)) {
          session.memberKey = key;
          return session;
        }
      }
    } catch (error) {
      await session.close().catch(() => {});
      throw error;
    }
  }

  /** Take lock `n` of the group if it is free. */
  async tryLock(n: number): Promise<boolean> {
    const [row] = await this.#run(sql.tryLockSql, [this.groupKey, n]);
    return row?.locked === 't' || row?.locked === 'true';
  }

  /** Give up lock `n`. */
  async unlock(n: number): Promise<void> {
    await this.#run(sql.unlockSql, [this.groupKey, n]);
  }

  /** Every lock of the group now; running it renews this member's lease. */
  async groupLocks(): Promise<GroupLock[]> {
    await this.#run(sql.clearStatsSnapshotSql, []);
    const rows = await this.#run(sql.groupLocksSql, [this.groupKey]);
    return rows.map((row) => ({
      key: Number(row.key),
      pid: Number(row.pid),
      idleMs: row.idle_ms === null || row.idle_ms === undefined ? null : Number(row.idle_ms),
    }));
  }

  /** End the sessions of `pids` that are still silent past `leaseTimeoutMs`; returns those ended. */
  async endSilent(pids: readonly number[], leaseTimeoutMs: number): Promise<number[]> {
    if (pids.length === 0) return [];
    const rows = await this.#run(sql.terminateSilentSql, [pids, leaseTimeoutMs]);
    return rows.filter((row) => row.terminated === 't' || row.terminated === 'true').map((row) => Number(row.pid));
  }

  /** Release every lock and end the transaction; resolves once the session has ended (never rejects). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#release();
    await this.ended.catch(() => {});
  }

  #run(text: string, values: unknown[]): Promise<Awaited<ReturnType<Transaction['query']>>> {
    const run = async () => {
      const tx = this.#tx;
      if (tx === undefined || this.#closed) throw new ClosedError('Lease session');
      const started = performance.now();
      const rows = await tx.query(text, values);
      this.lastStatementAt = started;
      return rows;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }
}
