/**
 * Pure consumer-group scale-out pieces: the group recorded in a position record's metadata and its
 * check, member identifiers, and the member description a worker process reads.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConsumerGroupMismatchError, InvalidArgumentError, isConsumerError, isConsumerGroupMismatchError } from '../../src/index.ts';
import { consumerGroupIdentifiers } from '../../src/scale-out/consumer-group-processes.ts';
import { CONSUMER_GROUP_MEMBER_ENV, consumerGroupMemberFromEnvironment } from '../../src/scale-out/group-member.ts';
import { checkRecordedConsumerGroup, consumerGroupMetadata, recordedConsumerGroup } from '../../src/consumer/group-record.ts';

function rejects(argument: string, build: () => unknown): void {
  assert.throws(build, (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument);
}

describe('the group recorded with a position', () => {
  test('a member writes its number and the group size in localProperties; a consumer outside a group writes no metadata', () => {
    assert.deepEqual(consumerGroupMetadata({ member: 1, size: 3 }), { localProperties: { consumerGroupMember: 1, consumerGroupSize: 3 } });
    assert.equal(consumerGroupMetadata(undefined), null);
  });

  test('reads back from metadata, and is absent from records without it (Eventide writes none)', () => {
    assert.deepEqual(recordedConsumerGroup({ localProperties: { consumerGroupMember: 0, consumerGroupSize: 2 } }), { member: 0, size: 2 });
    assert.equal(recordedConsumerGroup(null), null);
    assert.equal(recordedConsumerGroup({ localProperties: { other: 1 } }), null);
    assert.equal(recordedConsumerGroup({ localProperties: { consumerGroupMember: '0', consumerGroupSize: 2 } }), null);
  });

  test('a record of the same member and size passes, as does a record without a group', () => {
    checkRecordedConsumerGroup('account:position-w-1', { member: 1, size: 3 }, { member: 1, size: 3 });
    checkRecordedConsumerGroup('account:position-w-1', null, { member: 1, size: 3 });
    checkRecordedConsumerGroup('account:position', null, undefined);
  });

  test('another size, another member number, or no group at all is a ConsumerGroupMismatchError', () => {
    const recorded = { member: 1, size: 3 };
    for (const configured of [{ member: 1, size: 4 }, { member: 0, size: 3 }, undefined]) {
      assert.throws(
        () => checkRecordedConsumerGroup('account:position-w-1', recorded, configured),
        (error: unknown) =>
          error instanceof ConsumerGroupMismatchError &&
          isConsumerGroupMismatchError(error) &&
          isConsumerError(error) &&
          error.positionStreamName === 'account:position-w-1' &&
          error.configured === configured,
      );
    }
  });
});

describe('member identifiers', () => {
  test('a prefix gives <prefix>-<member> for every member', () => {
    assert.deepEqual(consumerGroupIdentifiers({ size: 3, identifier: 'projection' }), ['projection-0', 'projection-1', 'projection-2']);
  });

  test('a list must name every member once, distinct', () => {
    assert.deepEqual(consumerGroupIdentifiers({ size: 2, identifiers: ['east', 'west'] }), ['east', 'west']);
    rejects('identifiers', () => consumerGroupIdentifiers({ size: 3, identifiers: ['a', 'b'] }));
    rejects('identifiers', () => consumerGroupIdentifiers({ size: 3, identifiers: ['a', 'b', 'a'] }));
    rejects('identifiers[1]', () => consumerGroupIdentifiers({ size: 2, identifiers: ['a', ''] }));
  });

  test('exactly one of identifier and identifiers, and a size the server accepts', () => {
    rejects('identifier', () => consumerGroupIdentifiers({ size: 2 }));
    rejects('identifier', () => consumerGroupIdentifiers({ size: 2, identifier: 'a', identifiers: ['a', 'b'] }));
    rejects('size', () => consumerGroupIdentifiers({ size: 0, identifier: 'a' }));
    rejects('size', () => consumerGroupIdentifiers({ size: 32768, identifier: 'a' }));
  });
});

describe('a worker process learns which member it is', () => {
  test('from the JSON its parent put in the environment', () => {
    const env = { [CONSUMER_GROUP_MEMBER_ENV]: JSON.stringify({ category: 'account', identifier: 'w-1', member: 1, size: 3 }) };
    assert.deepEqual(consumerGroupMemberFromEnvironment(env), { category: 'account', identifier: 'w-1', consumerGroup: { member: 1, size: 3 } });
  });

  test('and refuses a missing or broken description', () => {
    rejects(CONSUMER_GROUP_MEMBER_ENV, () => consumerGroupMemberFromEnvironment({}));
    rejects(CONSUMER_GROUP_MEMBER_ENV, () => consumerGroupMemberFromEnvironment({ [CONSUMER_GROUP_MEMBER_ENV]: '{' }));
    const described = (value: object) => ({ [CONSUMER_GROUP_MEMBER_ENV]: JSON.stringify(value) });
    rejects('consumerGroup.member', () => consumerGroupMemberFromEnvironment(described({ category: 'account', identifier: 'w', member: 3, size: 3 })));
    rejects('category', () => consumerGroupMemberFromEnvironment(described({ category: 'account-1', identifier: 'w', member: 0, size: 1 })));
  });
});
