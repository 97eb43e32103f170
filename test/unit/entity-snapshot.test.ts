import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SNAPSHOT_RECORDED_TYPE, snapshotStreamName } from '../../src/index.ts';
import { UnusableSnapshot, decodeSnapshot } from '../../src/entity/snapshot.ts';
import type { Message } from '../../src/vocabulary/message.ts';

const message = (data: unknown): Message => ({
  id: '00000000-0000-4000-8000-000000000000',
  streamName: 'account:snapshot-1',
  type: SNAPSHOT_RECORDED_TYPE,
  position: 0,
  globalPosition: 1,
  data,
  metadata: null,
  time: new Date('2026-01-01T00:00:00.000Z'),
});

test('snapshot streams are {entity}:snapshot-{id}, the snapshot type joining any category types', () => {
  assert.equal(snapshotStreamName('account', '123'), 'account:snapshot-123');
  assert.equal(snapshotStreamName('account', '123+abc'), 'account:snapshot-123+abc');
  assert.equal(snapshotStreamName('account:v2', '1'), 'account:v2+snapshot-1');
  assert.equal(SNAPSHOT_RECORDED_TYPE, 'Recorded');
});

test('a snapshot decodes to its entity data, version and time', () => {
  assert.deepEqual(decodeSnapshot(message({ entityData: { balance: 1 }, entityVersion: 4, time: '2026-12-02T14:48:58.329Z' })), {
    entityData: { balance: 1 },
    version: 4,
    time: new Date('2026-12-02T14:48:58.329Z'),
  });
});

test('a snapshot without time takes the message time, as Eventide does for snapshots written before time was recorded', () => {
  const decoded = decodeSnapshot(message({ entityData: null, entityVersion: 0 }));
  assert.ok(!(decoded instanceof UnusableSnapshot));
  assert.deepEqual(decoded.time, new Date('2026-01-01T00:00:00.000Z'));
});

test('a snapshot without a usable version, entity data or time is reported unusable, with the reason', () => {
  for (const [data, reason] of [
    [null, /not an object/],
    [{ entityVersion: 1 }, /no entityData/],
    [{ entityData: {}, entityVersion: -1 }, /entityVersion/],
    [{ entityData: {}, entityVersion: '3' }, /entityVersion/],
    [{ entityData: {}, entityVersion: 3, time: 'yesterday' }, /time/],
  ] as const) {
    const decoded = decodeSnapshot(message(data));
    assert.ok(decoded instanceof UnusableSnapshot, JSON.stringify(data));
    assert.match(decoded.reason, reason);
  }
});
