/**
 * `messagedb dead-letters`, run as the built bin against PostgreSQL while a consumer runs in this
 * process: the parked messages listed and shown, a replay from the command reaching the running
 * consumer's handler once, a discard recorded, and bad input refused with the usual exit codes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Consumer, DEAD_LETTER_RECORD_TYPES, deadLetterStreamName, listDeadLetters, type Message, type MessageDbClient } from '../../src/index.ts';
import { Handled, eventually } from '../support/consumer-support.ts';
import { createDatabase, postgresClient, randomCategory } from '../support/databases.ts';
import { assertFails, assertOk, records, runCli } from './cli-process.ts';

describe('messagedb dead-letters', () => {
  let url: string;
  let client: MessageDbClient;
  let category: string;
  let streamName: string;
  let consumer: Consumer;
  let running: Promise<void>;
  const handled = new Handled();
  const failing = new Set<string>(['Poison', 'Junk']);
  let poison: Message;
  let junk: Message;

  before(async () => {
    const database = await createDatabase();
    url = database.url;
    client = await postgresClient({}, database);
    category = randomCategory('cliDead');
    streamName = deadLetterStreamName(category, 'worker1');
    await client.writeMessages([
      { streamName: `${category}-1`, type: 'Good', data: { n: 1 } },
      { streamName: `${category}-1`, type: 'Poison', data: { n: 2 } },
      { streamName: `${category}-2`, type: 'Junk', data: { n: 3 } },
      { streamName: `${category}-2`, type: 'Good', data: { n: 4 } },
    ]);
    [, poison, junk] = (await client.getCategoryMessages(category)) as [Message, Message, Message];
    consumer = new Consumer(client, {
      category,
      identifier: 'worker1',
      pollIntervalMs: 50,
      retry: { initialDelayMs: 1, maxDelayMs: 5 },
      onError: { retries: 1, afterRetries: 'dead-letter' },
    }).onAny((message) => {
      if (failing.has(message.type)) throw new Error(`cannot handle ${message.type}`);
      handled.add(message);
    });
    running = consumer.start();
    await eventually(async () => (await listDeadLetters(client, streamName)).length === 2, 'two messages parked');
  });

  after(async () => {
    await consumer.stop();
    await running;
  });

  const cli = (...args: string[]) => runCli(['dead-letters', ...args, '--url', url, '--identifier', 'worker1']);

  test('list and show print the parked messages with their failure and state', async () => {
    const listed = await cli('list', category, '--json');
    assertOk(listed);
    const rows = records<{ globalPosition: number; state: string; attempts: number; error: { message: string } }>(listed);
    assert.deepEqual(
      rows.map((row) => [row.globalPosition, row.state, row.attempts, row.error.message]),
      [
        [poison.globalPosition, 'parked', 2, 'cannot handle Poison'],
        [junk.globalPosition, 'parked', 2, 'cannot handle Junk'],
      ],
    );
    const shown = await cli('show', category, String(poison.globalPosition), '--table');
    assertOk(shown);
    assert.match(shown.stdout, new RegExp(`stream\\s+${poison.streamName}`));
    assert.match(shown.stdout, /data\s+\{"n":2\}/);
    assert.match(shown.stdout, /error\s+Error: cannot handle Poison/);
  });

  test('replay from the command reaches the running consumer’s handler once', async () => {
    failing.delete('Poison');
    const replayed = await cli('replay', category, String(poison.globalPosition), '--json');
    assertOk(replayed);
    assert.deepEqual(records(replayed), [{ globalPosition: poison.globalPosition, state: 'replay requested' }]);
    await handled.until(() => handled.messages.some((message) => message.id === poison.id), 'the replayed message is handled');
    await eventually(async () => (await listDeadLetters(client, streamName))[0]?.state === 'replayed', 'marked replayed');
    assert.equal(handled.messages.filter((message) => message.id === poison.id).length, 1, 'handled once');
    assert.equal(consumer.state, 'live');

    const again = await cli('replay', category, String(poison.globalPosition));
    assertFails(again, 1, /it was replayed/);
  });

  test('discard records the decision in the dead-letter stream', async () => {
    const discarded = await cli('discard', category, '--all', '--reason', 'test data', '--json');
    assertOk(discarded);
    assert.deepEqual(records(discarded), [{ globalPosition: junk.globalPosition, state: 'discarded' }]);
    const last = await client.getLastStreamMessage(streamName);
    assert.equal(last?.type, DEAD_LETTER_RECORD_TYPES.discarded);
    assert.deepEqual(last?.data, { globalPosition: junk.globalPosition, reason: 'test data' });
    assert.deepEqual(
      (await listDeadLetters(client, streamName)).map((letter) => letter.state),
      ['replayed', 'discarded'],
    );
    assert.equal(handled.messages.filter((message) => message.id === junk.id).length, 0, 'a discarded message is not handled');
  });

  test('bad input is refused with exit 2, an unknown message with exit 3', async () => {
    assertFails(await runCli(['dead-letters', 'list', category, '--url', url]), 2, /--identifier/);
    assertFails(await cli('replay', category), 2, /global positions of the parked messages, or --all/);
    assertFails(await cli('discard', category, '999999999'), 3, /No message at global position 999999999 is parked/);
  });
});
