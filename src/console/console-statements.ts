/**
 * The console's SQL, run through the public `client.query()` with `readOnly: true`. No statement
 * scans the messages table: each one walks one of Message DB's indexes (`messages_category` on
 * category and global position, `messages_stream` on stream name and position, `messages_id`, the
 * primary key) and stops after a bounded number of entries. Values are always bound parameters.
 * Times come back as ISO 8601 text in UTC (the column holds UTC without a zone); `data` and
 * `metadata` as the JSON text stored.
 */

const isoTime = `to_char(time, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const messageColumns = `id::text AS id, stream_name, type, position, global_position, data::text AS data, metadata::text AS metadata, ${isoTime} AS time`;

/**
 * Up to `$2` categories after `$1` (`''` for the first), in order: a loose index scan that jumps
 * from one category to the next over `messages_category`, one index probe each.
 */
export function categoriesAfter(): string {
  return `
WITH RECURSIVE categories(category, n) AS (
  SELECT (SELECT message_store.category(stream_name) FROM message_store.messages
           WHERE message_store.category(stream_name) > $1::text
           ORDER BY message_store.category(stream_name) LIMIT 1), 1
  UNION ALL
  SELECT (SELECT message_store.category(m.stream_name) FROM message_store.messages m
           WHERE message_store.category(m.stream_name) > c.category
           ORDER BY message_store.category(m.stream_name) LIMIT 1), c.n + 1
    FROM categories c
   WHERE c.category IS NOT NULL AND c.n < $2::int)
SELECT category FROM categories WHERE category IS NOT NULL`;
}

/**
 * For each category of the JSON array `$1`: the newest `$2` messages at most (walked back along
 * `messages_category`), counted; their distinct streams; the newest time and global position; and
 * the messages per minute of the last 30 minutes among them (`{"minutes ago": count}`).
 */
export function categoryWindows(): string {
  return `
SELECT c.category, w.messages, w.streams, w.newest_time, w.head, w.per_minute
  FROM json_array_elements_text($1::json) WITH ORDINALITY AS c(category, ord)
 CROSS JOIN LATERAL (
   WITH win AS (
     SELECT stream_name, time, global_position FROM message_store.messages
      WHERE message_store.category(stream_name) = c.category
      ORDER BY global_position DESC LIMIT $2::int)
   SELECT (SELECT count(*) FROM win) AS messages,
          (SELECT count(DISTINCT stream_name) FROM win) AS streams,
          (SELECT to_char(max(time), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM win) AS newest_time,
          (SELECT max(global_position) FROM win) AS head,
          (SELECT json_object_agg(minute, n)::text FROM (
             SELECT floor(extract(epoch FROM (now() AT TIME ZONE 'utc') - time) / 60)::int AS minute, count(*) AS n
               FROM win WHERE time > (now() AT TIME ZONE 'utc') - interval '30 minutes' GROUP BY 1) s) AS per_minute
 ) w
 ORDER BY c.ord`;
}

/** The store's newest global position (the primary key's last entry) and the planner's estimate of its rows. */
export function storeHead(): string {
  return `
SELECT (SELECT max(global_position) FROM message_store.messages) AS head,
       (SELECT reltuples::bigint FROM pg_class WHERE oid = 'message_store.messages'::regclass) AS estimate`;
}

/**
 * The planner's statistics of the category index's expression (gathered by ANALYZE): its most
 * common categories with their shares, and its number of distinct categories (negative: a share of
 * the rows), with the table's row estimate. No row, or nulls, before the first ANALYZE.
 */
export function categoryStatistics(): string {
  return `
SELECT array_to_json(s.most_common_vals::text::text[])::text AS categories, array_to_json(s.most_common_freqs)::text AS shares, s.n_distinct,
       (SELECT reltuples FROM pg_class WHERE oid = 'message_store.messages'::regclass) AS rows
  FROM pg_stats s
 WHERE s.schemaname = 'message_store' AND s.tablename = 'messages_category' AND s.attname = 'category'`;
}

/** How many categories there are after `$1` (`''`: all), counting up to `$2` with the loose index scan of `categoriesAfter`. */
export function countCategories(): string {
  return `SELECT count(*) AS categories FROM (${categoriesAfter()}) c`;
}

/** The message types among category `$1`'s newest `$2` messages, with their counts. */
export function categoryTypes(): string {
  return `
SELECT type, count(*) AS messages FROM (
  SELECT type FROM message_store.messages
   WHERE message_store.category(stream_name) = $1::text
   ORDER BY global_position DESC LIMIT $2::int) w
 GROUP BY type ORDER BY count(*) DESC, type`;
}

/** Category `$1`'s newest `$3` messages before global position `$2`, newest first. */
export function categoryMessagesBefore(): string {
  return `
SELECT ${messageColumns} FROM message_store.messages
 WHERE message_store.category(stream_name) = $1::text AND global_position < $2::bigint
 ORDER BY global_position DESC LIMIT $3::int`;
}

/** Category `$1`'s first `$3` messages after global position `$2`, oldest first (the live tail). */
export function categoryMessagesAfter(): string {
  return `
SELECT ${messageColumns} FROM message_store.messages
 WHERE message_store.category(stream_name) = $1::text AND global_position > $2::bigint
 ORDER BY global_position LIMIT $3::int`;
}

/**
 * Category `$1`'s messages whose `correlationStreamName` is of category `$3` (what
 * `get_category_messages` filters with its `correlation`), among its newest `$4` before global
 * position `$2`: at most `$5`, newest first.
 */
export function correlatedMessagesBefore(): string {
  return `
SELECT ${messageColumns} FROM (
  SELECT * FROM message_store.messages
   WHERE message_store.category(stream_name) = $1::text AND global_position < $2::bigint
   ORDER BY global_position DESC LIMIT $4::int) w
 WHERE message_store.category(w.metadata->>'correlationStreamName') = $3::text
 ORDER BY global_position DESC LIMIT $5::int`;
}

/** Category `$1`'s first `$4` messages after global position `$2` whose `correlationStreamName` is of category `$3`, oldest first. */
export function correlatedMessagesAfter(): string {
  return `
SELECT ${messageColumns} FROM message_store.messages
 WHERE message_store.category(stream_name) = $1::text AND global_position > $2::bigint
   AND message_store.category(metadata->>'correlationStreamName') = $3::text
 ORDER BY global_position LIMIT $4::int`;
}

/** Category `$1`'s newest global position, or null: the category index's last entry for it. */
export function categoryHead(): string {
  return 'SELECT max(global_position) AS head FROM message_store.messages WHERE message_store.category(stream_name) = $1::text';
}

/**
 * The streams of category `$1` from stream name `$2` on, in name order: a loose index scan over
 * `messages_stream` that jumps from one stream name to the next while names start with the category,
 * until `$3` streams of the category are found or `$4` names are walked. Each stream of the category
 * comes with its last message (its version, type, time). Names walked that belong to another
 * category (`account:command-1` under `account`) come back with `member` false.
 */
export function categoryStreams(): string {
  return `
WITH RECURSIVE walk(stream_name, steps, found) AS (
  SELECT s.stream_name, 1, (message_store.category(s.stream_name) = $1::text)::int
    FROM (SELECT (SELECT stream_name FROM message_store.messages WHERE stream_name >= $2::text ORDER BY stream_name LIMIT 1) AS stream_name) s
  UNION ALL
  SELECT n.stream_name, w.steps + 1, w.found + (message_store.category(n.stream_name) = $1::text)::int
    FROM walk w
   CROSS JOIN LATERAL (SELECT (SELECT m.stream_name FROM message_store.messages m WHERE m.stream_name > w.stream_name
                                ORDER BY m.stream_name LIMIT 1) AS stream_name) n
   WHERE w.stream_name IS NOT NULL AND starts_with(w.stream_name, $1::text) AND w.steps < $4::int AND w.found < $3::int)
SELECT w.stream_name, message_store.category(w.stream_name) = $1::text AS member, starts_with(w.stream_name, $1::text) AS in_range,
       l.position AS version, l.type, l.global_position, ${isoTime.replace('time', 'l.time')} AS time
  FROM walk w
  LEFT JOIN LATERAL (
    SELECT position, type, global_position, time FROM message_store.messages m
     WHERE m.stream_name = w.stream_name AND message_store.category(w.stream_name) = $1::text
     ORDER BY position DESC LIMIT 1) l ON true
 WHERE w.stream_name IS NOT NULL
 ORDER BY w.steps`;
}

/** Stream `$1`'s messages from position `$2` on, at most `$3`, oldest first. */
export function streamMessagesForward(): string {
  return `
SELECT ${messageColumns} FROM message_store.messages
 WHERE stream_name = $1::text AND position >= $2::bigint
 ORDER BY position LIMIT $3::int`;
}

/** Stream `$1`'s messages from position `$2` back, at most `$3`, newest first. */
export function streamMessagesBackward(): string {
  return `
SELECT ${messageColumns} FROM message_store.messages
 WHERE stream_name = $1::text AND position <= $2::bigint
 ORDER BY position DESC LIMIT $3::int`;
}

/** Stream `$1`'s version (its last position), or null when it has no messages. */
export function streamVersion(): string {
  return 'SELECT message_store.stream_version($1::varchar) AS version';
}

/** The message at position `$2` of stream `$1`. */
export function messageAt(): string {
  return `SELECT ${messageColumns} FROM message_store.messages WHERE stream_name = $1::text AND position = $2::bigint`;
}

/** The message whose id is `$1`. */
export function messageById(): string {
  return `SELECT ${messageColumns} FROM message_store.messages WHERE id = $1::uuid`;
}

/** A position stream's `$2` newest records (position, metadata, time), newest first. */
export function positionRecords(): string {
  return `
SELECT data->>'position' AS recorded_position, metadata::text AS metadata, ${isoTime} AS time FROM message_store.messages
 WHERE stream_name = $1::text ORDER BY position DESC LIMIT $2::int`;
}

/**
 * The newest global position in consumer group member `$2`'s share (of a group of `$3`) of category
 * `$1`, or no row: the server's own filter (`get_category_messages`), read backwards along the
 * category index until the first message of the share.
 */
export function consumerGroupShareHead(): string {
  return `
SELECT global_position FROM message_store.messages
 WHERE message_store.category(stream_name) = $1::text
   AND MOD(@message_store.hash_64(message_store.cardinal_id(stream_name)), $3::bigint) = $2::bigint
 ORDER BY global_position DESC LIMIT 1`;
}
