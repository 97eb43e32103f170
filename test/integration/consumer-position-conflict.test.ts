/**
 * Two consumers with one category and identifier would each handle every message and move each
 * other's position: position records are written at the version the consumer last saw, so the
 * second one stops at its first record with PositionConflictError, on a server and on PGlite.
 * One after the other (a redeploy, or an Eventide consumer taking over) is no conflict.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Consumer, PositionConflictError, isPositionConflictError, recordPosition, type MessageDbClient } from '../../src/index.ts';
import { engines, randomCategory } from '../support/databases.ts';
import { Handled, recordedPositions, writeSpread } from '../support/consumer-support.ts';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

for (const engine of engines) {
  describe(`position conflicts on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test('a second consumer with the same category and identifier stops at its first record; the first carries on', async () => {
      const category = randomCategory('twins');
      const head = await writeSpread(client, category, 200, 10);
      const handled = [new Handled(), new Handled()];
      // Neither handles a message before both have one in hand, so both read their start position
      // before either can record one. (Otherwise a twin that starts late resumes from the other's
      // record, or one that starts after the other went idle never writes: no conflict to see.)
      const reading = handled.map(() => {
        let resolve = (): void => {};
        const promise = new Promise<void>((done) => {
          resolve = done;
        });
        return { promise, resolve };
      });
      const bothReading = Promise.all(reading.map(({ promise }) => promise));
      const consumers = handled.map((each, index) =>
        new Consumer(client, { category, identifier: 'twin', positionUpdateInterval: 10 }).onAny(async (message) => {
          reading[index]!.resolve();
          await bothReading;
          await tick();
          each.add(message);
        }),
      );
      const runs = consumers.map((consumer) =>
        consumer.start().then(
          () => undefined,
          (error: unknown) => error,
        ),
      );
      // One of them fails at its first record (the other's is already there); the other reads on.
      const first = await Promise.race(runs.map((run, index) => run.then((error) => ({ index, error }))));
      assert.ok(isPositionConflictError(first.error), `a PositionConflictError, not ${String(first.error)}`);
      const conflict = first.error as PositionConflictError;
      assert.ok(conflict instanceof PositionConflictError);
      assert.equal(conflict.code, 'CONSUMER');
      assert.equal(conflict.positionStreamName, `${category}:position-twin`);
      assert.ok(conflict.streamVersion > conflict.expectedVersion, 'the stream moved past what the failed consumer saw');
      assert.match(conflict.message, /two consumers with one category and identifier/);
      assert.ok(handled[first.index]!.messages.length < 200, 'it stopped before reading everything');

      const survivor = 1 - first.index;
      await handled[survivor]!.count(200);
      await consumers[survivor]!.stop();
      assert.equal(await runs[survivor], undefined, 'the other ran to the end and stopped cleanly');
      const positions = await recordedPositions(client, `${category}:position-twin`);
      assert.equal(positions.at(-1), head, 'the position is the survivor’s: the last message');
    });

    test('one consumer after another with the same identifier takes over without a conflict, both ways', async () => {
      const category = randomCategory('takeover');
      await writeSpread(client, category, 100, 10);
      const run = async (): Promise<number[]> => {
        const handled = new Handled();
        const consumer = new Consumer(client, { category, identifier: 'shared', positionUpdateInterval: 10 }).onAny((message) => handled.add(message));
        const running = consumer.start();
        const head = await client.categoryHead(category);
        await handled.until(() => handled.messages.at(-1)?.globalPosition === head, 'the last message handled');
        await consumer.stop();
        await running;
        return handled.globalPositions;
      };
      assert.equal((await run()).length, 100);
      const more = await writeSpread(client, category, 30, 10);
      const second = await run();
      assert.equal(second.at(-1), more, 'the second consumer read on from the first one’s position');
      await writeSpread(client, category, 30, 10);
      assert.ok((await run()).length >= 30, 'and the first one again from the second one’s');
    });

    test('recordPosition: at the version last seen it writes; a shorter stream is written after what is there; a longer one is a conflict and writes nothing', async () => {
      const stream = `${randomCategory()}:position-direct`;
      assert.equal(await recordPosition(client, stream, 5), 0);
      assert.equal(await recordPosition(client, stream, 6, { expectedVersion: 0 }), 1);
      // Records lost to a server crash (written without waiting for the flush): the stream is shorter.
      assert.equal(await recordPosition(client, stream, 7, { expectedVersion: 5 }), 2);
      await assert.rejects(recordPosition(client, stream, 8, { expectedVersion: 0 }), (error: unknown) => {
        assert.ok(isPositionConflictError(error));
        assert.equal(error.expectedVersion, 0);
        assert.equal(error.streamVersion, 2);
        return true;
      });
      assert.deepEqual(await recordedPositions(client, stream), [5, 6, 7]);
    });
  });
}
