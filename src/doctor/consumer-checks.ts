/**
 * The checks that read position streams: `consumer-lag` (Eventide's naming finds the consumers:
 * `account:position-worker-1` is consumer `worker-1` of category `account`) and
 * `position-stream-growth` (position and snapshot streams holding many records).
 */
import { recordedConsumerGroup } from '../consumer/group-record.js';
import type { Metadata } from '../vocabulary/message.js';
import { categoryTypes } from '../vocabulary/stream-name.js';
import { numberOf, type Check, type DoctorContext } from './doctor-context.js';
import { tuningLink, type Finding } from './finding.js';
import { count, duration } from './format.js';
import { consumerCategory } from '../consumer/position-store.js';
import * as statements from './statements.js';

/** The categories whose types include `type` (`position`, `snapshot`). */
async function categoriesOfType(context: DoctorContext, type: string): Promise<string[]> {
  const { categories } = await context.survey();
  return categories.map((facts) => facts.category).filter((category) => categoryTypes(category).includes(type));
}

function metadataOf(text: string | null): Metadata | null {
  if (text === null) return null;
  try {
    const metadata = JSON.parse(text) as unknown;
    return typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? (metadata as Metadata) : null;
  } catch {
    return null;
  }
}

/**
 * `consumer-lag`: a consumer whose last recorded position is `lagMessages` or more messages behind
 * its category's head (for a recorded group member, behind the newest message of its share), or any
 * message behind with a last record older than `lagSeconds`. Counting stops at `lagMessages`,
 * so a far-behind consumer costs no more than that many index entries; the distance in global
 * positions to the head is given beside it.
 */
export const consumerLag: Check = async (context) => {
  const { lagMessages, lagSeconds } = context.settings;
  const { categories } = await context.survey();
  const heads = new Map(categories.map((facts) => [facts.category, facts.head]));
  const findings: Finding[] = [];
  const cap = lagMessages;
  for (const positionCategory of await categoriesOfType(context, 'position')) {
    const category = consumerCategory(positionCategory);
    const head = heads.get(category) ?? 0;
    for (const stream of await context.recordStreams(positionCategory)) {
      if (stream.recordedPosition === null || stream.recordedPosition >= head) continue;
      const group = recordedConsumerGroup(metadataOf(stream.metadataText));
      const [row] = await context.query(statements.messagesBehind, [category, stream.recordedPosition, cap, group?.member ?? null, group?.size ?? null]);
      const behind = numberOf(row?.behind);
      if (!(behind >= lagMessages || (behind > 0 && stream.ageSeconds >= lagSeconds))) continue;
      const share = group === null ? '' : ` (member ${group.member} of a group of ${group.size}: its share)`;
      findings.push({
        code: 'consumer-lag',
        severity: 'warning',
        subject: stream.streamName,
        detail:
          `${behind >= cap ? `at least ${count(cap)}` : count(behind)} messages of ${category}${share} after its recorded position ` +
          `${count(stream.recordedPosition)} (category head ${count(head)}, ${count(head - stream.recordedPosition)} global positions on); ` +
          `last position record ${duration(stream.ageSeconds)} ago`,
        advice:
          stream.ageSeconds >= lagSeconds
            ? 'The consumer has recorded nothing for a while: check that it runs and that its handler does not fail or hang. ' +
              'A consumer that was retired leaves its position stream behind; ignore it or remove the stream.'
            : 'The consumer runs but falls behind: raise batchSize, handle messages concurrently (concurrency) or split the category over a consumer group.',
        link: tuningLink('consumer-lag'),
      });
    }
  }
  return findings;
};

/** `position-stream-growth`: position and snapshot streams with more than `positionRecords` records. */
export const positionStreamGrowth: Check = async (context) => {
  const { positionRecords } = context.settings;
  const findings: Finding[] = [];
  for (const type of ['position', 'snapshot']) {
    for (const category of await categoriesOfType(context, type)) {
      for (const stream of await context.recordStreams(category)) {
        if (stream.records <= positionRecords) continue;
        findings.push({
          code: 'position-stream-growth',
          severity: 'warning',
          subject: stream.streamName,
          detail: `${count(stream.records)} records in this ${type} stream; only the last one is read`,
          advice:
            type === 'position'
              ? `\`messagedb positions compact --category ${consumerCategory(category)}\` deletes all but the newest record of each of its consumers' position streams ` +
                '(safe while they run); a larger positionUpdateInterval writes fewer records.'
              : '`messagedb positions compact --snapshots` deletes all but the newest record of snapshot streams too; snapshotting less often writes fewer.',
          link: tuningLink('position-stream-growth'),
        });
      }
    }
  }
  return findings;
};
