/**
 * The command's own SQL, run through the public `client.query()`: each column is named, because
 * the rows come back as objects keyed by column name with every value as text (or null). The
 * message reads call Message DB's own functions, whose `data` and `metadata` columns are the JSON
 * text as stored, so the command can print numbers no double can hold. Values are always bound
 * parameters. Every statement here only reads: the commands run them with `readOnly: true`, so a
 * lost connection is retried as the client's own reads are.
 */

/**
 * `get_stream_messages($1 stream, $2 position, $3 batch size)`. As in the client's reads, the first
 * argument turns `enable_sort` off for the statement's transaction before the function plans its
 * query: with stale statistics the planner would otherwise sort the whole stream instead of walking
 * its index in order (the rows are the same either way).
 */
export const getStreamMessages = `
SELECT id, stream_name, type, position, global_position, data, metadata, time
  FROM message_store.get_stream_messages(
       CASE WHEN set_config('enable_sort', 'off', true) = 'off' THEN $1::varchar END, $2::bigint, $3::bigint, NULL::varchar)`;

/**
 * `get_category_messages($1 category, $2 global position, $3 batch size, $4 correlation, $5 member,
 * $6 group size)`, with `enable_sort` off as above.
 */
export const getCategoryMessages = `
SELECT id, stream_name, type, position, global_position, data, metadata, time
  FROM message_store.get_category_messages(
       CASE WHEN set_config('enable_sort', 'off', true) = 'off' THEN $1::varchar END,
       $2::bigint, $3::bigint, $4::varchar, $5::bigint, $6::bigint, NULL::varchar)`;

/** `get_last_stream_message($1 stream, $2 type or NULL)`. */
export const getLastStreamMessage = `
SELECT id, stream_name, type, position, global_position, data, metadata, time
  FROM message_store.get_last_stream_message($1::varchar, $2::varchar)`;

/** The server's PostgreSQL version text, e.g. `15.18`. */
export const serverVersion = "SELECT current_setting('server_version') AS server_version";

/** Totals over the whole store: messages, streams, categories, types, and the newest global position. */
export const storeTotals = `
SELECT count(*) AS messages, count(DISTINCT stream_name) AS streams,
       count(DISTINCT message_store.category(stream_name)) AS categories, count(DISTINCT type) AS types,
       max(global_position) AS head_global_position
  FROM message_store.messages`;

/**
 * Message DB's six summary views, each with `message_count` and `percent` (of the whole store). All
 * but `type` take `$1`, a category to keep or NULL for all. The views scan every message.
 */
export const summaryViews = {
  stream: `
SELECT stream_name, message_count, percent FROM message_store.stream_summary
 WHERE $1::varchar IS NULL OR message_store.category(stream_name) = $1::varchar
 ORDER BY stream_name`,
  type: 'SELECT type, message_count, percent FROM message_store.type_summary ORDER BY type',
  streamType: `
SELECT stream_name, type, message_count, percent FROM message_store.stream_type_summary
 WHERE $1::varchar IS NULL OR message_store.category(stream_name) = $1::varchar
 ORDER BY stream_name, type`,
  typeStream: `
SELECT type, stream_name, message_count, percent FROM message_store.type_stream_summary
 WHERE $1::varchar IS NULL OR message_store.category(stream_name) = $1::varchar
 ORDER BY type, stream_name`,
  categoryType: `
SELECT category, type, message_count, percent FROM message_store.category_type_summary
 WHERE $1::varchar IS NULL OR category = $1::varchar
 ORDER BY category, type`,
  typeCategory: `
SELECT type, category, message_count, percent FROM message_store.type_category_summary
 WHERE $1::varchar IS NULL OR category = $1::varchar
 ORDER BY type, category`,
} as const;

/**
 * Every consumer position stream (a category whose types include `position`, Eventide's
 * `PositionStore::StreamName`) with its last record's `position` (as `recorded_position`: the
 * stream position orders the records), metadata and time. Scans every
 * message: position stream names are not known in advance.
 */
export const positionStreams = `
SELECT DISTINCT ON (stream_name) stream_name, data->>'position' AS recorded_position, metadata::text AS metadata, time
  FROM message_store.messages
 WHERE 'position' = ANY (string_to_array(split_part(message_store.category(stream_name), ':', 2), '+'))
 ORDER BY stream_name, position DESC`;

/**
 * The newest global position in consumer group member `$2`'s share (of a group of `$3`) of category
 * `$1`, or no row: the server's own filter (`get_category_messages`), read backwards along the
 * category index until the first message of the share.
 */
export const consumerGroupShareHead = `
SELECT global_position FROM message_store.messages
 WHERE message_store.category(stream_name) = $1::varchar
   AND MOD(@message_store.hash_64(message_store.cardinal_id(stream_name)), $3::bigint) = $2::bigint
 ORDER BY global_position DESC
 LIMIT 1`;
