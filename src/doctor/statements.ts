/**
 * The doctor's SQL, run through the public `client.query()` with `readOnly: true`. None scans the
 * messages table: categories are found by skipping along the category index (one index probe per
 * category), heads and samples read each category's newest entries of that index backwards, and
 * counts are capped with LIMIT. Values are bound parameters; columns are named, and come back as text.
 */

/**
 * Up to `$1` categories (in order), each with its head (newest global position), the age in seconds
 * of its newest message, and the average size in bytes of the data and metadata (as JSON text) of
 * its newest `$2` messages. A recursive skip over `messages_category`: `category > previous`, the
 * first entry, until none is left.
 */
export const categorySurvey = `
WITH RECURSIVE categories AS (
  (SELECT message_store.category(stream_name) AS category FROM message_store.messages ORDER BY 1 LIMIT 1)
  UNION ALL
  SELECT (SELECT message_store.category(m.stream_name) FROM message_store.messages m
           WHERE message_store.category(m.stream_name) > c.category ORDER BY 1 LIMIT 1)
    FROM categories c
   WHERE c.category IS NOT NULL
)
SELECT c.category, head.global_position AS head, head.age_seconds, sample.messages AS sampled,
       sample.data_bytes, sample.metadata_bytes
  FROM (SELECT category FROM categories WHERE category IS NOT NULL LIMIT $1::bigint) c
 CROSS JOIN LATERAL (
       SELECT m.global_position, extract(epoch FROM (clock_timestamp() AT TIME ZONE 'utc') - m.time) AS age_seconds
         FROM message_store.messages m
        WHERE message_store.category(m.stream_name) = c.category
        ORDER BY m.global_position DESC LIMIT 1) head
 CROSS JOIN LATERAL (
       SELECT count(*) AS messages, avg(octet_length(s.data::text)) AS data_bytes,
              avg(octet_length(coalesce(s.metadata::text, ''))) AS metadata_bytes
         FROM (SELECT m.data, m.metadata FROM message_store.messages m
                WHERE message_store.category(m.stream_name) = c.category
                ORDER BY m.global_position DESC LIMIT $2::bigint) s) sample`;

/**
 * The streams of position (or snapshot) category `$1`, each with its number of records and its last
 * record's `position` (data), metadata and age in seconds. Reads that category's entries of the
 * category index, then each stream's last record along `messages_stream`.
 */
export const recordStreams = `
SELECT s.stream_name, s.records, last.recorded_position, last.metadata, last.age_seconds
  FROM (SELECT stream_name, count(*) AS records FROM message_store.messages
         WHERE message_store.category(stream_name) = $1::varchar GROUP BY stream_name) s
 CROSS JOIN LATERAL (
       SELECT m.data->>'position' AS recorded_position, m.metadata::text AS metadata,
              extract(epoch FROM (clock_timestamp() AT TIME ZONE 'utc') - m.time) AS age_seconds
         FROM message_store.messages m
        WHERE m.stream_name = s.stream_name
        ORDER BY m.position DESC LIMIT 1) last
 ORDER BY s.stream_name`;

/**
 * How many messages of category `$1` come after global position `$2` (of consumer group member `$4`
 * of `$5` when both are given, by the server's own filter), counting at most `$3`.
 */
export const messagesBehind = `
SELECT count(*) AS behind FROM (
  SELECT 1 FROM message_store.messages
   WHERE message_store.category(stream_name) = $1::varchar AND global_position > $2::bigint
     AND ($4::bigint IS NULL OR MOD(@message_store.hash_64(message_store.cardinal_id(stream_name)), $5::bigint) = $4::bigint)
   LIMIT $3::bigint) behind`;

/** The messages table's planner statistics: rows the planner assumes, changes since the last analyze, when that was, its storage options. */
export const tableStatistics = `
SELECT c.reltuples::bigint AS reltuples, s.n_live_tup, s.n_mod_since_analyze,
       extract(epoch FROM clock_timestamp() - greatest(s.last_analyze, s.last_autoanalyze)) AS analyzed_seconds_ago,
       array_to_string(c.reloptions, ',') AS reloptions
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE n.nspname = 'message_store' AND c.relname = 'messages'`;

/**
 * Every `message_store.sql_condition` set with ALTER DATABASE or ALTER ROLE that applies in this
 * database (for it, or for all databases), with the session's own value beside it.
 */
export const sqlConditionSettings = `
SELECT coalesce(d.datname, '') AS database_name, coalesce(r.rolname, '') AS role_name,
       split_part(setting, '=', 2) AS value
  FROM pg_db_role_setting s
  LEFT JOIN pg_database d ON d.oid = s.setdatabase
  LEFT JOIN pg_roles r ON r.oid = s.setrole
 CROSS JOIN LATERAL unnest(s.setconfig) AS setting
 WHERE split_part(setting, '=', 1) = 'message_store.sql_condition'
   AND (s.setdatabase = 0 OR d.datname = current_database())`;

/** The session's own `message_store.sql_condition` (from the server's configuration, the connection or the above). */
export const sessionSqlCondition = "SELECT coalesce(current_setting('message_store.sql_condition', true), '') AS value";

/**
 * Sessions of this database waiting for an advisory lock taken with one bigint key (as Message DB's
 * `acquire_lock` takes `hash_64(category)`), the key, how long their statement has run, and the
 * sessions holding that key with their transaction's age.
 */
export const advisoryLockWaits = `
SELECT w.pid, ((w.classid::bigint << 32) | w.objid::bigint)::text AS lock_key,
       extract(epoch FROM clock_timestamp() - a.query_start) * 1000 AS waiting_ms,
       coalesce(a.application_name, '') AS application_name,
       (SELECT string_agg(h.pid::text, ',' ORDER BY h.pid) FROM pg_locks h
         WHERE h.locktype = 'advisory' AND h.granted AND h.database = w.database
           AND h.classid = w.classid AND h.objid = w.objid AND h.objsubid = w.objsubid) AS holders,
       (SELECT max(extract(epoch FROM clock_timestamp() - ha.xact_start)) FROM pg_locks h JOIN pg_stat_activity ha ON ha.pid = h.pid
         WHERE h.locktype = 'advisory' AND h.granted AND h.database = w.database
           AND h.classid = w.classid AND h.objid = w.objid AND h.objsubid = w.objsubid) AS holder_seconds
  FROM pg_locks w
  LEFT JOIN pg_stat_activity a ON a.pid = w.pid
 WHERE w.locktype = 'advisory' AND NOT w.granted AND w.objsubid = 1
   AND w.database = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY w.pid`;

/** The server settings that matter to Message DB. */
export const serverSettings = `
SELECT name, setting FROM pg_settings
 WHERE name IN ('synchronous_commit', 'max_connections', 'superuser_reserved_connections', 'autovacuum', 'fsync')`;

/** Client connections to the server now, by application name (a client's pool shows as its connections). */
export const connectionsInUse = `
SELECT coalesce(nullif(application_name, ''), '(no application name)') AS application_name, count(*) AS connections
  FROM pg_stat_activity
 WHERE backend_type = 'client backend'
 GROUP BY 1
 ORDER BY 2 DESC, 1`;
