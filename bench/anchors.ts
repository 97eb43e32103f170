/**
 * The harness's own pgbench anchor, beside the performance doc's scripts that `messagedb bench`
 * runs too (src/cli/bench/pgbench.ts).
 */
import type { AnchorScript } from '../src/cli/bench/pgbench.ts';

/**
 * Not one of the anchor scripts there: a consumer's statements, one after another. The 1000-message read
 * of `r_cat_full`, then a position record after every 100 of those messages, written as the
 * client's consumer writes it (Eventide's `Recorded`, without waiting for the WAL flush; without
 * its expected version, which changes no work: write_message reads the stream's version either
 * way). This is what a consumer that waits for each record would reach if nothing but the server
 * took time.
 * (`chr(58)` is the stream name's colon: pgbench reads `:name` as a variable.)
 */
export const consumerAnchor: AnchorScript = {
  name: 'c_pos100',
  messagesPerTransaction: 1000,
  text: [
    `SELECT * FROM message_store.get_category_messages('batch', 1, 1000);`,
    // Record n of 10 holds position n * 100.
    ...Array.from({ length: 10 }, (_, offset) => offset + 1).map(
      (index) =>
        `SELECT set_config('synchronous_commit', 'off', true), message_store.write_message(gen_random_uuid()::varchar, 'batch' || chr(58) || 'position-pgbench', 'Recorded', '{"position": ${index}00}'::jsonb);`,
    ),
  ].join('\n'),
};
