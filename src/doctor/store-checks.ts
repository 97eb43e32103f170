/**
 * The checks on the messages table and what it holds: `stale-statistics` (the planner's idea of the
 * table against the changes since it was last analyzed) and `large-messages` (categories whose
 * newest messages are large, from the survey's sample).
 */
import { numberOf, type Check } from './doctor-context.js';
import { tuningLink, type Finding } from './finding.js';
import { bytes, count, duration } from './format.js';
import * as statements from './statements.js';

/** Below this many changed rows, statistics are never called stale: a small table plans fine either way. */
const minimumStaleRows = 1000;

/**
 * `stale-statistics`: rows inserted, updated or deleted since the last analyze reach `staleRatio` of
 * the rows the planner assumes (pg_class.reltuples, -1 or 0 when the table was never analyzed or was
 * analyzed empty), and at least a thousand.
 */
export const staleStatistics: Check = async (context) => {
  const [row] = await context.query(statements.tableStatistics);
  if (row === undefined) return [];
  const changed = numberOf(row.n_mod_since_analyze);
  if (Number.isNaN(changed)) {
    return [
      {
        code: 'stale-statistics',
        severity: 'info',
        subject: 'message_store.messages',
        detail: 'This server keeps no statistics of changes to the table (pg_stat_user_tables has no row for it).',
        advice: 'Nothing to do here; on a server, run `ANALYZE message_store.messages` after loading many messages.',
        link: tuningLink('stale-statistics'),
      },
    ];
  }
  const assumed = Math.max(0, numberOf(row.reltuples));
  if (changed < Math.max(minimumStaleRows, context.settings.staleRatio * assumed)) return [];
  const analyzedAgo = numberOf(row.analyzed_seconds_ago);
  const since = Number.isNaN(analyzedAgo) ? 'it was never analyzed' : `it was analyzed ${duration(analyzedAgo)} ago`;
  return [
    {
      code: 'stale-statistics',
      severity: 'warning',
      subject: 'message_store.messages',
      detail:
        `${count(changed)} rows changed since ${since}; the planner assumes ${count(assumed)} rows ` +
        `(about ${count(numberOf(row.n_live_tup))} live). Plans made on these figures may scan and sort instead of walking an index.`,
      advice:
        'Run `ANALYZE message_store.messages`, and check that autovacuum runs on the table. Until then, a read at the head of a category that was a larger ' +
        "share of the table when it was analyzed (every poll of a caught-up consumer) may walk every message written since, this client's reads included; " +
        "reads further back stay on the category index for this client's reads (enable_sort off), not for other clients or ad-hoc SQL.",
      link: tuningLink('stale-statistics'),
    },
  ];
};

/** `large-messages`: categories whose newest messages average more than `largeMessageBytes` of data and metadata. */
export const largeMessages: Check = async (context) => {
  const { categories } = await context.survey();
  const findings: Finding[] = [];
  for (const facts of categories) {
    const size = facts.dataBytes + facts.metadataBytes;
    if (!(facts.sampled > 0 && size > context.settings.largeMessageBytes)) continue;
    findings.push({
      code: 'large-messages',
      severity: 'warning',
      subject: facts.category,
      detail:
        `its newest ${count(facts.sampled)} messages average ${bytes(size)} ` +
        `(data ${bytes(facts.dataBytes)}, metadata ${bytes(facts.metadataBytes)}, as JSON text)`,
      advice:
        'Every byte is written, read and decoded again by each reader and each consumer (each KiB of data added 26-45 µs to a write and 8-14 µs to a read ' +
        "in the guide's measurements), and a batch of 1000 such messages is held in memory at once. " +
        'Keep large payloads elsewhere (object storage) and write a reference, or read such categories with a smaller batchSize.',
      link: tuningLink('large-messages'),
    });
  }
  return findings;
};
