/**
 * The read options of read replicas (`primary`, `after`) on clients without replicas, on both
 * engines: valid values change nothing (everything is read where it always was), bad values are
 * refused before any SQL, naming the option, as on a client with replicas.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { InvalidArgumentError, type MessageDbClient } from '../../src/index.ts';
import { engines, randomStreamName } from '../support/databases.ts';

for (const engine of engines) {
  describe(`read replica options without replicas on ${engine.name}`, () => {
    let client: MessageDbClient;
    before(async () => {
      client = await engine.open();
    });

    test('primary and after are accepted and change nothing; there is no write token', async () => {
      const streamName = randomStreamName();
      await client.writeMessage({ streamName, type: 'Opened' });
      assert.equal(client.writeToken, null);
      assert.equal((await client.getStreamMessages(streamName, { primary: true, after: '0/0' })).length, 1);
      assert.equal((await client.getLastStreamMessage(streamName, { after: null }))?.type, 'Opened');
      assert.deepEqual((await client.replicaStats()).replicas, []);
    });

    test('bad values are refused naming the option, also inside a transaction', async () => {
      const refused = (argument: string) => (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument;
      await assert.rejects(client.getStreamMessages(randomStreamName(), { after: 'later' }), refused('after'));
      await assert.rejects(client.streamVersion(randomStreamName(), { primary: 1 as never }), refused('primary'));
      await assert.rejects(
        client.transaction((tx) => tx.getCategoryMessages('account', { after: 42 as never })),
        refused('after'),
      );
    });
  });
}
