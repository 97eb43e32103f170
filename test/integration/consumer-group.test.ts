/**
 * Consumer groups on a real PostgreSQL server and on PGlite: the members' shares are disjoint and
 * complete, and each stream lands on the member the server's hash of its cardinal id names.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Consumer, InvalidArgumentError, consumerGroupMember, type MessageDbClient } from '../../src/index.ts';
import { engines, randomCategory } from '../support/databases.ts';
import { Handled, writeSpread, type SpreadData } from '../support/consumer-support.ts';

const size = 3;

for (const engine of engines) {
  describe(`consumer group on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test('3 members over 1000 streams: disjoint, complete, each stream on exactly one member', async () => {
      const category = randomCategory('group');
      // Two messages per stream, plus a compound id that must follow its cardinal id.
      await writeSpread(client, category, 2000, 1000);
      await client.writeMessage({ streamName: `${category}-7+extra`, type: 'Compound' });
      const total = 2001;

      const all = new Handled<SpreadData>();
      const members = Array.from({ length: size }, (_, member) => {
        const handled = new Handled<SpreadData>();
        const consumer = new Consumer(client, {
          category,
          identifier: `member-${member}`,
          consumerGroup: { member, size },
          batchSize: 250,
        }).onAny<SpreadData>((message) => {
          handled.add(message);
          all.add(message);
        });
        return { member, consumer, handled, running: consumer.start() };
      });
      await all.count(total);
      for (const { consumer, running } of members) {
        await consumer.stop();
        await running;
      }

      const owner = new Map<string, number>();
      for (const { member, handled } of members) {
        for (const message of handled.messages) {
          const previous = owner.get(message.streamName);
          assert.ok(previous === undefined || previous === member, `${message.streamName} went to members ${previous} and ${member}`);
          owner.set(message.streamName, member);
          assert.equal(consumerGroupMember(message.streamName, size), member, `${message.streamName} is member ${member}'s by hash`);
        }
      }
      assert.equal(owner.size, 1001, 'every stream was handled');
      assert.equal(all.messages.length, total, 'no message twice');
      assert.equal(new Set(all.globalPositions).size, total);
      assert.equal(owner.get(`${category}-7+extra`), owner.get(`${category}-7`), 'a compound id goes with its cardinal id');
      for (const { handled } of members) assert.ok(handled.messages.length > 0, 'every member got a share');
    });

    test('a group member without an identifier is refused before anything runs', () => {
      assert.throws(
        () => new Consumer(client, { category: randomCategory(), consumerGroup: { member: 0, size } }),
        (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'identifier',
      );
    });
  });
}
