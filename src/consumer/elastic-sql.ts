/**
 * The SQL of an elastic group's lease session. Leases are session-level advisory locks of the
 * two-key form `(groupKey, n)`: PostgreSQL files those under `objsubid = 2`, apart from the
 * one-key locks Message DB's `write_message` takes per category (`objsubid = 1`), so the two never
 * meet. `n` below MAX_ELASTIC_PARTITIONS is a partition; above it, a member's own key.
 */
import { createHash } from 'node:crypto';

/**
 * The advisory lock key of the group (`category`, `identifier`): 31 bits of a SHA-256, so every
 * process, in any language, derives the same key. Two groups share a key with odds of 1 in 2^31.
 */
export function elasticGroupKey(category: string, identifier: string): number {
  return createHash('sha256').update(`messagedb elastic ${category} ${identifier}`).digest().readUInt32BE(0) & 0x7fffffff;
}

/** Take lock `(groupKey, n)` for this session if it is free: `locked` is `t` or `f`. */
export const tryLockSql = 'SELECT pg_try_advisory_lock($1::int4, $2::int4) AS locked';

/** Give up lock `(groupKey, n)`. */
export const unlockSql = 'SELECT pg_advisory_unlock($1::int4, $2::int4) AS unlocked';

/** Give up every advisory lock of this session (the lease session's last statement). */
export const unlockAllSql = 'SELECT pg_advisory_unlock_all()';

/** The lease session's own backend, so it knows its locks in the group's list. */
export const backendPidSql = 'SELECT pg_backend_pid() AS pid';

/**
 * pg_stat_activity is read once per transaction and kept; the lease session is one long
 * transaction, so it drops that copy before each look at the group.
 */
export const clearStatsSnapshotSql = 'SELECT pg_stat_clear_snapshot()';

/**
 * Every lock of the group, with how long its holder's session has been idle in its transaction
 * (null while it runs a statement, or when this role may not see it). clock_timestamp(), not
 * now(): now() stays at the start of the lease session's transaction.
 */
export const groupLocksSql = `SELECT l.objid::bigint AS key, l.pid,
       CASE WHEN a.state = 'idle in transaction'
            THEN floor(extract(epoch FROM clock_timestamp() - a.state_change) * 1000)::bigint END AS idle_ms
  FROM pg_locks l
  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
   AND l.classid::bigint = $1::bigint
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/**
 * End the sessions of members silent for longer than the lease timeout ($2 ms), checked again
 * here so a member that has just renewed is spared; PostgreSQL then releases their locks.
 */
export const terminateSilentSql = `SELECT a.pid, pg_terminate_backend(a.pid) AS terminated
  FROM pg_stat_activity a
 WHERE a.pid = ANY($1::int4[]) AND a.state = 'idle in transaction'
   AND clock_timestamp() - a.state_change > make_interval(secs => $2::float8 / 1000)`;

/**
 * The partitions `p` in 0..`$2`-1 whose stream `$1-p` has messages, with its version: one probe of
 * Message DB's stream index each, no scan. Used to find an elastic group's dead-letter streams.
 */
export const partitionStreamVersionsSql = `SELECT p AS partition, v.version
  FROM generate_series(0, $2::int - 1) p
 CROSS JOIN LATERAL (SELECT message_store.stream_version($1::varchar || '-' || p::text) AS version) v
 WHERE v.version IS NOT NULL
 ORDER BY p`;
