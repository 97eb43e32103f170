/**
 * Every SQL text the client sends, once, with explicit casts. Values are always bound parameters.
 * Each statement has a stable name so engines that support it can prepare it once per connection.
 * JSON goes in as text and is cast in SQL, so neither driver re-serialises it.
 */

/** A statement: a stable name (for prepared statements) and its text. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

const statement = (name: string, text: string): Statement => ({ name: `messagedb_${name}`, text });

/** The columns of `message_store.message`, in the order `readMessage` reads them. */
const messageColumns = 'id, stream_name, type, position, global_position, data, metadata, time';

/** `write_message(id, stream_name, type, data, metadata, expected_version)` -> stream position. */
export const writeMessage = statement(
  'write_message',
  'SELECT message_store.write_message($1::varchar, $2::varchar, $3::varchar, $4::text::jsonb, $5::text::jsonb, $6::bigint)',
);

/**
 * Many `write_message` calls in one statement, so a batch is one round trip and one implicit
 * transaction: all or nothing. The lateral call runs once per array element in array order; the
 * expected version is checked for the first message and advanced by one per message.
 */
export const writeMessages = statement(
  'write_messages',
  `SELECT w.position
     FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::text[])
          WITH ORDINALITY AS m(id, stream_name, type, data, metadata, ordinal)
    CROSS JOIN LATERAL message_store.write_message(
          m.id, m.stream_name, m.type, m.data::jsonb, m.metadata::jsonb, $6::bigint + m.ordinal - 1
        ) AS w(position)
    ORDER BY m.ordinal`,
);

/** Where the messages with these ids are, with whether each matches what the caller sent. */
export const findMessagesById = statement(
  'find_messages_by_id',
  `SELECT m.id::varchar, m.position,
          m.stream_name = s.stream_name AND m.type = s.type AND m.data IS NOT DISTINCT FROM s.data::jsonb AS same
     FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::text[]) AS s(id, stream_name, type, data)
     JOIN message_store.messages m ON m.id = s.id`,
);

/**
 * The first argument (`$1`, the stream or category) of a stream or category read, with
 * `enable_sort` turned off for the rest of the statement's transaction before the function runs
 * (arguments are evaluated first, and `set_config` is volatile, so it is never folded away). The read functions plan their query when
 * they run it, from the table's statistics. While those are stale (a new database, analyzed while
 * empty, or a category or stream written since the last analyze), the planner expects a handful of
 * rows and chooses to fetch every message of the category or stream and sort them, instead of
 * walking the category or stream index in order, several times slower (docs/engines.md has the
 * measurements). With
 * sorting priced out, the ordered index scan is the plan; the rows are the same either way. The
 * setting is local: it ends with the statement outside a transaction, and inside one it lasts to
 * the end, where only this client's statements run (a sort that has no ordered alternative, like a
 * batch's, is still done: the setting only prices it, it never changes a result).
 */
const indexOrderedName = "CASE WHEN set_config('enable_sort', 'off', true) = 'off' THEN $1::varchar END";

export const getStreamMessages = statement(
  'get_stream_messages',
  `SELECT ${messageColumns}
     FROM message_store.get_stream_messages(${indexOrderedName}, $2::bigint, $3::bigint, $4::varchar)`,
);

export const getCategoryMessages = statement(
  'get_category_messages',
  `SELECT ${messageColumns}
     FROM message_store.get_category_messages(
          ${indexOrderedName}, $2::bigint, $3::bigint, $4::varchar, $5::bigint, $6::bigint, $7::varchar)`,
);

/**
 * A filtered read turns `message_store.sql_condition` on for itself alone, around the read function:
 *
 * - `before` keeps the setting as the statement found it.
 * - The condition argument turns it on (`set_config(..., true)`, evaluated as an argument, so before
 *   the function checks it), and first, when it was unset or empty, makes the session's own value
 *   `off`: a setting the server does not know is a placeholder, and once a local value of one ends,
 *   the session is left with `''`, which Message DB takes as on (it refuses only NULL and `off`).
 * - The second branch of the UNION ALL, run once the first has returned every row (an Append runs
 *   its branches in order), puts back what `before` kept (`off` for unset or empty) and returns no
 *   row. Inside a caller's transaction the setting is therefore on for this statement only; outside
 *   one, the statement's own transaction ends with it anyway.
 *
 * A value the database or session set (`on`, `off`) is kept.
 */
const conditionBefore = "WITH before AS MATERIALIZED (SELECT current_setting('message_store.sql_condition', true) AS value)";

const conditionOn = `set_config('message_store.sql_condition',
            CASE WHEN CASE WHEN coalesce(before.value, '') = '' THEN set_config('message_store.sql_condition', 'off', false)
                           ELSE before.value END IS NOT NULL
                 THEN 'on' END, true)`;

const conditionRestored = `UNION ALL
   SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM before
    WHERE set_config('message_store.sql_condition', coalesce(nullif(before.value, ''), 'off'), true) IS NULL`;

/**
 * The two reads with a filter's condition (vocabulary/condition.ts), which need neither the
 * database-wide setting nor `allowCondition`. Only the condition text a filter compiled to is ever
 * passed here; a raw `condition` goes through the plain reads, where the server's setting decides.
 */
export const getStreamMessagesFiltered = statement(
  'get_stream_messages_filtered',
  `${conditionBefore}
   SELECT ${messageColumns}
     FROM before CROSS JOIN LATERAL message_store.get_stream_messages(${indexOrderedName}, $2::bigint, $3::bigint,
          CASE WHEN ${conditionOn} = 'on' THEN $4::varchar END)
   ${conditionRestored}`,
);

export const getCategoryMessagesFiltered = statement(
  'get_category_messages_filtered',
  `${conditionBefore}
   SELECT ${messageColumns}
     FROM before CROSS JOIN LATERAL message_store.get_category_messages(
          ${indexOrderedName}, $2::bigint, $3::bigint, $4::varchar, $5::bigint, $6::bigint,
          CASE WHEN ${conditionOn} = 'on' THEN $7::varchar END)
   ${conditionRestored}`,
);

export const getLastStreamMessage = statement(
  'get_last_stream_message',
  `SELECT ${messageColumns} FROM message_store.get_last_stream_message($1::varchar, $2::varchar)`,
);

export const streamVersion = statement('stream_version', 'SELECT message_store.stream_version($1::varchar)');

export const messageStoreVersion = statement('message_store_version', 'SELECT message_store.message_store_version()');

/** The global position of the newest message in a category (the category head), or NULL. */
export const categoryHead = statement(
  'category_head',
  `SELECT max(global_position) FROM message_store.messages WHERE message_store.category(stream_name) = $1::varchar`,
);

/** What the installer needs to know before it decides what to run. */
export const installState = statement(
  'install_state',
  `SELECT current_setting('server_version_num')::int,
          to_regclass('message_store.messages') IS NOT NULL,
          to_regprocedure('message_store.message_store_version()') IS NOT NULL,
          to_regprocedure('message_store.get_last_stream_message(varchar)') IS NOT NULL,
          EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'message_store'),
          (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user)`,
);

/** Which of the objects a complete Message DB 1.3 install has are present (all true when complete). */
export const verifyInstall = statement(
  'verify_install',
  `SELECT to_regprocedure('message_store.write_message(varchar,varchar,varchar,jsonb,jsonb,bigint)') IS NOT NULL,
          to_regprocedure('message_store.get_stream_messages(varchar,bigint,bigint,varchar)') IS NOT NULL,
          to_regprocedure('message_store.get_category_messages(varchar,bigint,bigint,varchar,bigint,bigint,varchar)') IS NOT NULL,
          to_regprocedure('message_store.get_last_stream_message(varchar,varchar)') IS NOT NULL,
          to_regprocedure('message_store.stream_version(varchar)') IS NOT NULL,
          to_regclass('message_store.messages_id') IS NOT NULL,
          to_regclass('message_store.messages_stream') IS NOT NULL,
          to_regclass('message_store.messages_category') IS NOT NULL,
          to_regclass('message_store.type_category_summary') IS NOT NULL`,
);

// Consumers

/** Double-quote an identifier (a LISTEN channel); identifiers cannot be bound parameters. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `LISTEN` on a channel (the channel is quoted, never interpolated bare). */
export const listen = (channel: string): string => `LISTEN ${quoteIdentifier(channel)}`;

/** `UNLISTEN` a channel. */
export const unlisten = (channel: string): string => `UNLISTEN ${quoteIdentifier(channel)}`;

/** The trigger's names, also used to tell whether it is installed. */
const notifyTriggerName = 'messagedb_notify';
const notifyFunctionName = 'message_store.messagedb_notify_category';

/**
 * The opt-in NOTIFY trigger (messagedb's own; Message DB has none): after each insert into
 * `message_store.messages`, `pg_notify` on the category's channel with the global position as the
 * payload. The channel is `messagedb:` + category, or `messagedb:` + md5(category) when that would
 * pass PostgreSQL's 63-byte limit on channel names; `notifyChannel()` computes the same. The
 * category is `split_part(stream_name, '-', 1)`, the definition of Message DB's `category()`.
 * Notifications are sent on commit, so a listener never hears of a message it cannot read yet.
 */
export const installNotifyTrigger = `
CREATE OR REPLACE FUNCTION ${notifyFunctionName}() RETURNS trigger
LANGUAGE plpgsql AS $messagedb$
DECLARE
  channel text := 'messagedb:' || split_part(NEW.stream_name, '-', 1);
BEGIN
  IF octet_length(channel) > 63 THEN
    channel := 'messagedb:' || md5(split_part(NEW.stream_name, '-', 1));
  END IF;
  PERFORM pg_notify(channel, NEW.global_position::text);
  RETURN NULL;
END;
$messagedb$;
DROP TRIGGER IF EXISTS ${notifyTriggerName} ON message_store.messages;
CREATE TRIGGER ${notifyTriggerName} AFTER INSERT ON message_store.messages
  FOR EACH ROW EXECUTE FUNCTION ${notifyFunctionName}();
`;

/** Remove the NOTIFY trigger and its function; Message DB itself is untouched. */
export const uninstallNotifyTrigger = `
DROP TRIGGER IF EXISTS ${notifyTriggerName} ON message_store.messages;
DROP FUNCTION IF EXISTS ${notifyFunctionName}();
`;

/** True when the NOTIFY trigger is installed on `message_store.messages`. */
export const notifyTriggerInstalled = statement(
  'notify_trigger_installed',
  `SELECT EXISTS (
     SELECT 1 FROM pg_trigger
      WHERE tgname = '${notifyTriggerName}' AND tgrelid = to_regclass('message_store.messages') AND NOT tgisinternal
   )`,
);

/**
 * A consumer's position record (`write_message` of a `Recorded` message at the version the
 * consumer last saw, or with no expected version; metadata only for a consumer group member),
 * committed without waiting for the WAL flush: `synchronous_commit` is switched off for this one
 * implicit transaction only. Only a server crash can lose such a record, and then the consumer
 * resumes from an earlier position and handles those messages again; never later.
 */
export const recordPosition = statement(
  'record_position',
  `SELECT set_config('synchronous_commit', 'off', true),
          message_store.write_message($1::varchar, $2::varchar, $3::varchar, $4::text::jsonb, $5::text::jsonb, $6::bigint)`,
);

// Read replicas

/**
 * The primary's WAL insert position, read after a write committed: a write token. The insert
 * position (not the flush position) is at or past the commit record even when the commit was
 * asynchronous (`synchronous_commit = off`).
 */
export const walInsertPosition = statement('wal_insert_position', 'SELECT pg_current_wal_insert_lsn()::text');

/**
 * The primary's WAL flush position: the most a replica can have received, so replica lag is
 * measured against it (WAL inserted but not yet flushed is not lag).
 */
export const walFlushPosition = statement('wal_flush_position', 'SELECT pg_current_wal_flush_lsn()::text');

/**
 * A replica's state: the WAL position it has replayed (its own insert position when it is not in
 * recovery, i.e. a primary), whether it is a standby, and how old the last transaction it
 * replayed is, in seconds (null when it has replayed none since it started).
 */
export const replicaStatus = statement(
  'replica_status',
  `SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END::text,
          pg_is_in_recovery(),
          extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8`,
);

// Position compaction

/**
 * The categories of the store whose types include one of `$1` (`{position}`, `{position,snapshot}`):
 * a loose index scan over the messages_category index, each step the smallest category greater than
 * the last, so the store's messages are never scanned.
 */
export const categoriesOfTypes = statement(
  'categories_of_types',
  `WITH RECURSIVE categories(category) AS (
     SELECT min(message_store.category(stream_name)) FROM message_store.messages
     UNION ALL
     SELECT (SELECT min(message_store.category(m.stream_name)) FROM message_store.messages m
              WHERE message_store.category(m.stream_name) > c.category)
       FROM categories c WHERE c.category IS NOT NULL
   )
   SELECT category FROM categories
    WHERE category IS NOT NULL AND string_to_array(split_part(category, ':', 2), '+') && $1::text[]`,
);

/** Whether the session's role may delete messages (the `message_store` role may not). */
export const deletePrivilege = statement('delete_privilege', "SELECT has_table_privilege('message_store.messages', 'DELETE')");

/**
 * One bounded step of position compaction in category `$1`: the next `$4` records after global
 * position `$2` up to `$3` (along the category index), and of them those more than `$5` behind
 * their stream's last record, deleted. The statement's one snapshot sees each stream's version and
 * its records alike: a record written meanwhile is neither seen nor counted, so the last record of a
 * stream always stays and its version never changes. Returns how many were scanned, the last global
 * position scanned, and how many were deleted.
 */
export const compactPositions = statement(
  'compact_positions',
  `WITH scanned AS MATERIALIZED (
     SELECT global_position, stream_name, position FROM message_store.messages
      WHERE message_store.category(stream_name) = $1::varchar AND global_position > $2::bigint AND global_position <= $3::bigint
      ORDER BY global_position LIMIT $4::bigint
   ), versions AS MATERIALIZED (
     SELECT s.stream_name, (SELECT max(v.position) FROM message_store.messages v WHERE v.stream_name = s.stream_name) AS stream_version
       FROM (SELECT DISTINCT stream_name FROM scanned) s
   ), doomed AS (
     SELECT scanned.global_position FROM scanned JOIN versions USING (stream_name)
      WHERE scanned.position <= versions.stream_version - $5::bigint
   ), deleted AS (
     DELETE FROM message_store.messages m USING doomed WHERE m.global_position = doomed.global_position RETURNING m.global_position
   )
   SELECT (SELECT count(*) FROM scanned), (SELECT max(global_position) FROM scanned), (SELECT count(*) FROM deleted)`,
);

/**
 * `compactPositions` without the delete, for a dry run: the same step, counting what it would
 * delete. A statement of its own (not the same one with the delete switched off by a parameter),
 * because a DELETE needs the privilege even when it deletes nothing, and a dry run must not.
 */
export const countCompactablePositions = statement(
  'count_compactable_positions',
  `WITH scanned AS MATERIALIZED (
     SELECT global_position, stream_name, position FROM message_store.messages
      WHERE message_store.category(stream_name) = $1::varchar AND global_position > $2::bigint AND global_position <= $3::bigint
      ORDER BY global_position LIMIT $4::bigint
   ), versions AS MATERIALIZED (
     SELECT s.stream_name, (SELECT max(v.position) FROM message_store.messages v WHERE v.stream_name = s.stream_name) AS stream_version
       FROM (SELECT DISTINCT stream_name FROM scanned) s
   ), doomed AS (
     SELECT scanned.global_position FROM scanned JOIN versions USING (stream_name)
      WHERE scanned.position <= versions.stream_version - $5::bigint
   )
   SELECT (SELECT count(*) FROM scanned), (SELECT max(global_position) FROM scanned), (SELECT count(*) FROM doomed)`,
);
