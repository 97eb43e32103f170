/**
 * The consumers the console shows: every position stream (Eventide's naming: `account:position-x`
 * is consumer `x` of category `account`), found without scanning the messages table. The categories
 * come from the loose index scan; those whose types include `position` are position categories, and
 * their streams come from the walk over the stream index. For each: the recorded position, the
 * category's head, the lag (to the head of the member's share for a recorded consumer group member,
 * as `messagedb consumers` measures it), the last record's time, and the handled rate between the
 * last two records.
 */
import { CONSUMER_GROUP_MEMBER_PROPERTY, CONSUMER_GROUP_SIZE_PROPERTY } from '../consumer/group-record.js';
import type { MessageDbClient } from '../store/client.js';
import type { ConsumerGroup } from '../store/read.js';
import { categoryTypes, id as idOf } from '../vocabulary/stream-name.js';
import { CATEGORY_COUNT_LIMIT, isTrue } from './console-reader.js';
import { consumerCategory } from '../consumer/position-store.js';
import * as statements from './console-statements.js';

/** One consumer's row. */
export interface ConsoleConsumer {
  positionStream: string;
  category: string;
  identifier: string | null;
  consumerGroup: ConsumerGroup | null;
  position: number | null;
  head: number;
  lag: number | null;
  /** ISO 8601, UTC. */
  recordedAt: string;
  /** Global positions handled per second between the last two records, or null with fewer than two. */
  handledPerSecond: number | null;
}

/** A consumer group: the position streams whose records name the same category, group size and identifier. */
export interface ConsoleConsumerGroup {
  category: string;
  identifier: string | null;
  size: number;
  members: ConsoleConsumer[];
}

/** Position streams read at most per position category. */
const POSITION_STREAMS_PER_CATEGORY = 500;

function recordedGroup(metadataText: unknown): ConsumerGroup | null {
  if (typeof metadataText !== 'string') return null;
  const metadata = JSON.parse(metadataText) as { localProperties?: Record<string, unknown> } | null;
  const member = metadata?.localProperties?.[CONSUMER_GROUP_MEMBER_PROPERTY];
  const size = metadata?.localProperties?.[CONSUMER_GROUP_SIZE_PROPERTY];
  if (!Number.isSafeInteger(member) || !Number.isSafeInteger(size)) return null;
  return { member: member as number, size: size as number };
}

function recordedPosition(value: unknown): number | null {
  const position = value === null || value === undefined ? Number.NaN : Number(value);
  return Number.isSafeInteger(position) && position >= 0 ? position : null;
}

/** A group member's identifier without its member number (`balance-2` of member 2 gives `balance`). */
function groupIdentifier(identifier: string | null, group: ConsumerGroup): string | null {
  const suffix = `-${group.member}`;
  return identifier?.endsWith(suffix) ? identifier.slice(0, -suffix.length) : identifier;
}

/** Every consumer found from its position stream, and the groups among them. */
export async function readConsumers(client: MessageDbClient, signal?: AbortSignal): Promise<{ consumers: ConsoleConsumer[]; groups: ConsoleConsumerGroup[] }> {
  const query = (sql: string, params: readonly unknown[]) => client.query(sql, params, { readOnly: true, ...(signal === undefined ? {} : { signal }) });
  const categories = await query(statements.categoriesAfter(), ['', CATEGORY_COUNT_LIMIT]);
  const positionCategories = categories.map((row) => String(row.category)).filter((name) => categoryTypes(name).includes('position'));
  const heads = new Map<string, number>();
  const consumers: ConsoleConsumer[] = [];
  for (const positionCategory of positionCategories) {
    const walked = await query(statements.categoryStreams(), [
      positionCategory,
      positionCategory,
      POSITION_STREAMS_PER_CATEGORY,
      POSITION_STREAMS_PER_CATEGORY * 4,
    ]);
    for (const walkedRow of walked) {
      if (!isTrue(walkedRow.member)) continue;
      const positionStream = String(walkedRow.stream_name);
      const category = consumerCategory(positionStream);
      if (!heads.has(category)) heads.set(category, await client.categoryHead(category, signal === undefined ? {} : { signal }));
      const head = heads.get(category) ?? 0;
      const [last, previous] = await query(statements.positionRecords(), [positionStream, 2]);
      if (last === undefined) continue;
      const position = recordedPosition(last.recorded_position);
      const group = recordedGroup(last.metadata);
      let lagFrom = head;
      if (group !== null) {
        const [share] = await query(statements.consumerGroupShareHead(), [category, group.member, group.size]);
        lagFrom = share === undefined ? 0 : Number(share.global_position);
      }
      const previousPosition = previous === undefined ? null : recordedPosition(previous.recorded_position);
      const seconds = previous === undefined ? 0 : (Date.parse(String(last.time)) - Date.parse(String(previous.time))) / 1000;
      consumers.push({
        positionStream,
        category,
        identifier: idOf(positionStream),
        consumerGroup: group,
        position,
        head,
        lag: position === null ? null : Math.max(0, lagFrom - position),
        recordedAt: String(last.time),
        handledPerSecond: position !== null && previousPosition !== null && seconds > 0 ? Math.max(0, position - previousPosition) / seconds : null,
      });
    }
  }
  return { consumers, groups: groupsOf(consumers) };
}

function groupsOf(consumers: readonly ConsoleConsumer[]): ConsoleConsumerGroup[] {
  const groups = new Map<string, ConsoleConsumerGroup>();
  for (const consumer of consumers) {
    if (consumer.consumerGroup === null) continue;
    const identifier = groupIdentifier(consumer.identifier, consumer.consumerGroup);
    const key = JSON.stringify([consumer.category, identifier, consumer.consumerGroup.size]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { category: consumer.category, identifier, size: consumer.consumerGroup.size, members: [] };
      groups.set(key, group);
    }
    group.members.push(consumer);
  }
  for (const group of groups.values()) group.members.sort((a, b) => (a.consumerGroup?.member ?? 0) - (b.consumerGroup?.member ?? 0));
  return [...groups.values()];
}
