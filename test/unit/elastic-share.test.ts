/**
 * The fair-share arithmetic of elastic groups (src/consumer/elastic-share.ts), pure: shares add up
 * to the partitions and differ by at most one, and members that each take steps from their own
 * views of the group reach an even spread without ever holding one partition twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fairShare, groupView, planShare, type GroupLock } from '../../src/consumer/elastic-share.ts';

test('fair shares add up to the partitions and differ by at most one, the first ranks taking the remainder', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 80 }), (partitions, members) => {
      const shares = Array.from({ length: members }, (_, rank) => fairShare(partitions, members, rank));
      assert.equal(
        shares.reduce((sum, share) => sum + share, 0),
        partitions,
      );
      assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
      assert.deepEqual(
        [...shares].sort((a, b) => b - a),
        shares,
      );
    }),
  );
});

test('a view leaves out members silent past the lease timeout, but not this member itself', () => {
  const locks: GroupLock[] = [
    { key: 70_000, pid: 1, idleMs: 50 },
    { key: 0, pid: 1, idleMs: 50 },
    { key: 80_000, pid: 2, idleMs: 5000 },
    { key: 1, pid: 2, idleMs: 5000 },
    { key: 90_000, pid: 3, idleMs: null },
  ];
  const view = groupView(locks, 8, 1000, 2);
  assert.deepEqual(view.members, [70_000, 80_000, 90_000]);
  assert.deepEqual(view.silent, []);
  const other = groupView(locks, 8, 1000, 1);
  assert.deepEqual(other.members, [70_000, 90_000]);
  assert.deepEqual(other.silent, [2]);
  assert.deepEqual(
    [...other.owners],
    [
      [0, 1],
      [1, 2],
    ],
  );
});

test('members stepping towards their shares in any order reach an even spread, never holding a partition twice', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 24 }),
      fc.uniqueArray(fc.integer({ min: 100, max: 10_000 }), { minLength: 1, maxLength: 10 }),
      fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
      (partitions, keys, order) => {
        // Each member's pid is its index + 1; the lock table is the only shared state, as on the server.
        const holder = new Map<number, number>();
        const owned = keys.map(() => new Set<number>());
        const locks = (): GroupLock[] => [
          ...keys.map((key, index) => ({ key, pid: index + 1, idleMs: 0 })),
          ...[...holder].map(([partition, pid]) => ({ key: partition, pid, idleMs: 0 })),
        ];
        const step = (index: number): void => {
          const pid = index + 1;
          const plan = planShare(groupView(locks(), partitions, 1000, pid), partitions, keys[index] as number, pid, owned[index] as Set<number>);
          for (const partition of plan.release) {
            holder.delete(partition);
            owned[index]?.delete(partition);
          }
          for (const partition of plan.acquire) {
            if (holder.has(partition)) continue; // pg_try_advisory_lock: taken by someone else
            holder.set(partition, pid);
            owned[index]?.add(partition);
          }
        };
        for (const pick of order) step(pick % keys.length);
        for (let round = 0; round < 3; round++) for (let index = 0; index < keys.length; index++) step(index);
        const counts = owned.map((set) => set.size);
        assert.equal(holder.size, partitions);
        assert.equal(
          counts.reduce((sum, count) => sum + count, 0),
          partitions,
        );
        assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `counts ${counts}`);
      },
    ),
  );
});
