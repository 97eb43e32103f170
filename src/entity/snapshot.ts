/**
 * Eventide's entity snapshots (`EntitySnapshot::Postgres`): the entity's state at a version, kept as
 * the last message of the stream `{entity}:snapshot-{id}`, of type `Recorded`, with data
 * `{ entityData, entityVersion, time }` (the keys camelCased as Eventide's JSON transform writes
 * them, `time` ISO-8601 UTC with milliseconds). A snapshot written by a Ruby service is read here,
 * and one written here by Ruby.
 */
import type { Message } from '../vocabulary/message.js';
import { streamName } from '../vocabulary/stream-name.js';
import type { MessageDbClient } from '../store/client.js';
import type { ReadOptions } from '../store/read.js';

/** The type of a snapshot message. */
export const SNAPSHOT_RECORDED_TYPE = 'Recorded';

/** The data of a snapshot message, as it is stored. */
export interface SnapshotRecordedData {
  entityData: unknown;
  entityVersion: number;
  /** ISO-8601 UTC with milliseconds, e.g. `2026-12-02T14:48:58.329Z`. */
  time: string;
}

/** A snapshot read back. */
export interface Snapshot {
  entityData: unknown;
  version: number;
  time: Date;
}

/**
 * The snapshot stream of an entity: `{entity}:snapshot-{id}` (Eventide's
 * `Messaging::StreamName.stream_name(id, category, type: 'snapshot')`).
 *
 * @example snapshotStreamName('account', '123') // 'account:snapshot-123'
 */
export function snapshotStreamName(entity: string, id: string): string {
  return streamName(entity, id, { types: ['snapshot'] });
}

/** Why a snapshot message could not be used. */
export class UnusableSnapshot {
  constructor(readonly reason: string) {}
}

/**
 * Decode a snapshot message, or say why it cannot be used. Eventide falls back to the message's own
 * time when `time` is missing (snapshots written before it was added to the data).
 */
export function decodeSnapshot(message: Message): Snapshot | UnusableSnapshot {
  const data = message.data as Partial<SnapshotRecordedData> | null;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return new UnusableSnapshot('its data is not an object');
  if (!Object.hasOwn(data, 'entityData')) return new UnusableSnapshot('its data has no entityData');
  const version = data.entityVersion;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) return new UnusableSnapshot('its entityVersion is not a stream position');
  let time = message.time;
  if (data.time !== undefined && data.time !== null) {
    const parsed = typeof data.time === 'string' ? new Date(data.time) : new Date(Number.NaN);
    if (Number.isNaN(parsed.getTime())) return new UnusableSnapshot('its time is not an ISO-8601 time');
    time = parsed;
  }
  return { entityData: data.entityData, version, time };
}

/** The last message of the snapshot stream, or null (`get_last_stream_message`, with no type, as Eventide reads it). */
export function readSnapshotMessage(client: MessageDbClient, snapshotStream: string, options: ReadOptions): Promise<Message | null> {
  return client.getLastStreamMessage(snapshotStream, options);
}

/** Write a snapshot; returns its position in the snapshot stream. Written without an expected version, as Eventide does. */
export function writeSnapshot(client: MessageDbClient, snapshotStream: string, entityData: unknown, version: number, time: Date): Promise<number> {
  const data: SnapshotRecordedData = { entityData, entityVersion: version, time: time.toISOString() };
  return client.writeMessage({ streamName: snapshotStream, type: SNAPSHOT_RECORDED_TYPE, data });
}
