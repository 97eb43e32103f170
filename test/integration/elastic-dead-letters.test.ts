/**
 * Dead letters of an elastic consumer on a real server (elastic groups are refused on PGlite): two
 * members in one process share 4 partitions; a poison message is parked in the dead-letter stream
 * of its stream's partition; each member's stats().deadLetters sums the partitions it holds;
 * replayDeadLetters() replays the partitions its member holds and requests the others' replay
 * from their holder; a replay requested with requestDeadLetterReplay or with the `messagedb
 * dead-letters` command reaches the member holding the partition, and one requested while no
 * member runs is handled at the next start; every replayed message is handled exactly once, by
 * the member holding its partition.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Consumer,
  DEAD_LETTER_RECORD_TYPES,
  deadLetterStreamName,
  findDeadLetterStreams,
  InvalidArgumentError,
  isConsumerError,
  listDeadLetters,
  MessageDbClient,
  requestDeadLetterReplay,
  type Message,
} from '../../src/index.ts';
import { assertOk, records, runCli } from '../cli/cli-process.ts';
import { eventually } from '../support/consumer-support.ts';
import { createDatabase, onFileEnd, randomCategory } from '../support/databases.ts';

const database = await createDatabase();
const connect = async (): Promise<MessageDbClient> => {
  const client = await MessageDbClient.connect({ connectionString: database.url });
  onFileEnd(() => client.close());
  return client;
};
const admin = await connect();
await admin.install();

const PARTITIONS = 4;
const identifier = 'worker';
const elastic = { partitions: PARTITIONS, leaseTimeoutMs: 1000, heartbeatIntervalMs: 100 };

/** The partition Message DB's consumer group puts `streamName` in. */
async function partitionOf(streamName: string): Promise<number> {
  const [row] = await admin.query('SELECT MOD(@message_store.hash_64(message_store.cardinal_id($1::varchar)), $2::bigint) AS partition', [
    streamName,
    PARTITIONS,
  ]);
  return Number(row?.partition);
}

const partitionStream = (category: string, partition: number): string => deadLetterStreamName(category, `${identifier}-${partition}`);

describe('dead letters of an elastic consumer', () => {
  const category = randomCategory('elasticDead');
  /** Two streams in different partitions. */
  const streams: { streamName: string; partition: number }[] = [];
  let failing = true;
  let toxic = false;
  /** Each handled message, with the member that handled it. */
  const handled: { message: Message; member: number }[] = [];
  const consumers: Consumer[] = [];
  const running: Promise<void>[] = [];
  const poisons: Message[] = [];

  const partitionsOf = async (member: number): Promise<number[]> => (await consumers[member]?.stats())?.elastic?.partitions ?? [];
  const handledTimes = (message: Message): number => handled.filter((each) => each.message.id === message.id).length;
  const parked = async (message: Message, streamName: string): Promise<void> =>
    eventually(
      async () => (await listDeadLetters(admin, streamName)).some((letter) => letter.globalPosition === message.globalPosition),
      `${message.id} parked`,
    );
  const replayed = async (message: Message, streamName: string): Promise<void> =>
    eventually(
      async () => (await listDeadLetters(admin, streamName)).find((letter) => letter.globalPosition === message.globalPosition)?.state === 'replayed',
      `${message.id} replayed`,
    );
  /** Write a poison message to `stream` (its partition's index in `streams`). */
  const writePoison = async (stream: number, n: number, type = 'Poison'): Promise<Message> => {
    const { streamName } = streams[stream] as { streamName: string };
    await admin.writeMessage({ streamName, type, data: { n } });
    const message = (await admin.getLastStreamMessage(streamName)) as Message;
    poisons.push(message);
    return message;
  };

  before(async () => {
    await admin.writeMessages(Array.from({ length: 12 }, (_, n) => ({ streamName: `${category}-${n + 1}`, type: 'Good', data: { n } })));
    for (const member of [0, 1]) {
      const client = await connect();
      const consumer = new Consumer(client, {
        category,
        identifier,
        elastic,
        pollIntervalMs: 50,
        retry: { initialDelayMs: 1, maxDelayMs: 5 },
        onError: { retries: 1, afterRetries: 'dead-letter' },
      }).onAny((message) => {
        if ((message.type === 'Poison' && failing) || (message.type === 'Toxic' && toxic))
          throw new Error(`cannot handle ${message.type} ${JSON.stringify(message.data)}`);
        handled.push({ message, member });
      });
      consumers.push(consumer);
      running.push(consumer.start());
    }
    await eventually(async () => (await partitionsOf(0)).length === 2 && (await partitionsOf(1)).length === 2, 'each member holds 2 partitions');
    // streams[m] is in a partition member m holds.
    for (const member of [0, 1]) {
      const held = await partitionsOf(member);
      for (let id = 1; streams.length === member; id++) {
        const streamName = `${category}-${member}x${id}`;
        const partition = await partitionOf(streamName);
        if (held.includes(partition)) streams.push({ streamName, partition });
      }
    }
  });

  after(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await Promise.all(running);
  });

  test('bad input is refused with typed errors before any SQL; an elastic consumer that cannot park has nothing to replay', async () => {
    await assert.rejects(
      findDeadLetterStreams(admin, 'account-1', identifier),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'category',
    );
    await assert.rejects(findDeadLetterStreams(admin, category, ''), (error: unknown) => error instanceof InvalidArgumentError);
    const plain = new Consumer(admin, { category, identifier: 'other', elastic });
    await assert.rejects(plain.replayDeadLetters(), (error: unknown) => isConsumerError(error) && /has no dead-letter stream/.test(error.message));
    await assert.rejects(
      (consumers[0] as Consumer).replayDeadLetters({ globalPositions: [-1] }),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'globalPositions[0]',
    );
  });

  /** The member holding `partition` now. */
  const holder = async (partition: number): Promise<number> => ((await partitionsOf(0)).includes(partition) ? 0 : 1);

  test("a poison message is parked in its partition's dead-letter stream, and stats().deadLetters sums the partitions each member holds", async () => {
    const first = await writePoison(0, 1);
    const second = await writePoison(1, 2);
    await parked(first, partitionStream(category, streams[0]?.partition as number));
    await parked(second, partitionStream(category, streams[1]?.partition as number));

    const found = await findDeadLetterStreams(admin, category, identifier);
    const expected = streams.map(({ partition }) => partition).sort((a, b) => a - b);
    assert.deepEqual(
      found.map(({ streamName, partition }) => [streamName, partition]),
      expected.map((partition) => [partitionStream(category, partition), partition]),
    );
    assert.equal(consumers[0]?.deadLetterStreamName, undefined, 'an elastic consumer has no stream of its own');
    assert.equal(await admin.streamVersion(deadLetterStreamName(category, identifier)), -1, 'nothing parked under the group identifier itself');

    await eventually(async () => {
      const stats = await Promise.all(consumers.map((consumer) => consumer.stats()));
      const own = stats.map((each) => expected.filter((partition) => each.elastic?.partitions.includes(partition)).length);
      return stats.every((each, member) => each.deadLetters.waiting === own[member] && each.deadLetters.parked === own[member]) && own[0]! + own[1]! === 2;
    }, "each member's waiting count is that of the partitions it holds, 2 in all");
    assert.equal(handledTimes(first) + handledTimes(second), 0);
  });

  test('replayDeadLetters() replays the partitions its member holds and asks the holder of the others; each message handled once', async () => {
    failing = false;
    const [first, second] = poisons as [Message, Message];
    assert.deepEqual([await holder(streams[0]?.partition as number), await holder(streams[1]?.partition as number)], [0, 1]);
    const result = await (consumers[0] as Consumer).replayDeadLetters();
    // Member 0 holds the first's partition and replays it; the second's it asks member 1 to replay.
    assert.deepEqual(result, { replayed: [first.globalPosition], failed: [], requested: [second.globalPosition] });
    await replayed(first, partitionStream(category, streams[0]?.partition as number));
    await replayed(second, partitionStream(category, streams[1]?.partition as number));
    for (const [index, message] of [first, second].entries()) {
      const by = handled.filter((each) => each.message.id === message.id).map((each) => each.member);
      assert.deepEqual(by, [await holder(streams[index]?.partition as number)], `${message.id} handled once, by its partition's holder`);
    }
    await eventually(async () => (await consumers[0]?.stats())?.deadLetters.waiting === 0, 'stats show nothing waiting');
  });

  test('a replay requested with requestDeadLetterReplay or the command is handled once, by the member holding the partition', async () => {
    failing = true;
    const third = await writePoison(0, 3);
    const fourth = await writePoison(1, 4);
    const [thirdStream, fourthStream] = streams.map(({ partition }) => partitionStream(category, partition)) as [string, string];
    await parked(third, thirdStream);
    await parked(fourth, fourthStream);
    failing = false;

    assert.deepEqual(await requestDeadLetterReplay(admin, thirdStream, [third.globalPosition]), [third.globalPosition]);

    const cli = (...args: string[]) => runCli(['dead-letters', ...args, category, '--url', database.url, '--identifier', identifier, '--json']);
    const listed = await cli('list', '--state', 'parked');
    assertOk(listed);
    const row = records<{ globalPosition: number; partition: number; deadLetterStreamName: string }>(listed).find(
      (each) => each.globalPosition === fourth.globalPosition,
    );
    assert.deepEqual([row?.partition, row?.deadLetterStreamName], [streams[1]?.partition, fourthStream]);
    const table = await runCli(['dead-letters', 'list', category, '--url', database.url, '--identifier', identifier, '--table']);
    assertOk(table);
    assert.match(table.stdout, /^PARTITION\s+GLOBAL\s+STREAM/);
    assert.match(table.stdout, new RegExp(`^\\s+${streams[1]?.partition}\\s+${fourth.globalPosition}\\s+${fourth.streamName}\\s+Poison\\s+parked`, 'm'));
    const requested = await runCli([
      'dead-letters',
      'replay',
      category,
      String(fourth.globalPosition),
      '--url',
      database.url,
      '--identifier',
      identifier,
      '--json',
    ]);
    assertOk(requested);
    assert.deepEqual(records(requested), [{ globalPosition: fourth.globalPosition, state: 'replay requested' }]);

    await replayed(third, thirdStream);
    await replayed(fourth, fourthStream);
    const holders = [await holder(streams[0]?.partition as number), await holder(streams[1]?.partition as number)];
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await Promise.all(running);

    for (const [index, message] of [third, fourth].entries()) {
      const by = handled.filter((each) => each.message.id === message.id).map((each) => each.member);
      assert.deepEqual(by, [holders[index]], `${message.id} handled once, by the holder of partition ${streams[index]?.partition}`);
    }
    for (const [index, message] of poisons.entries()) {
      const records = await admin.getStreamMessages(partitionStream(category, streams[index % 2]?.partition as number));
      const marks = records.filter(
        (record) => record.type === DEAD_LETTER_RECORD_TYPES.replayed && (record.data as { globalPosition: number }).globalPosition === message.globalPosition,
      );
      assert.equal(marks.length, 1, `one Replayed record for ${message.globalPosition}`);
    }
  });

  test('a replay requested while no member runs is handled once by the member that takes the partition at its start', async () => {
    // Another type fails now: a restart delivers the last recorded message again, which must not fail.
    toxic = true;
    const member = consumers[0] as Consumer;
    running[0] = member.start();
    const fifth = await writePoison(1, 5, 'Toxic');
    const streamName = partitionStream(category, streams[1]?.partition as number);
    await parked(fifth, streamName);
    // The position moves past it, so the next start does not deliver it again.
    await admin.writeMessage({ streamName: streams[1]?.streamName as string, type: 'Good', data: { n: 6 } });
    const next = (await admin.getLastStreamMessage(streams[1]?.streamName as string)) as Message;
    await eventually(async () => handled.some((each) => each.message.globalPosition === next.globalPosition), 'the next message handled');
    await member.stop();
    await running[0];
    toxic = false;
    assert.deepEqual(await requestDeadLetterReplay(admin, streamName, 'all'), [fifth.globalPosition]);

    running[0] = member.start();
    await replayed(fifth, streamName);
    await member.stop();
    await running[0];
    assert.equal(handledTimes(fifth), 1);
  });
});
