/**
 * `time` is read as UTC whatever the process's time zone: Message DB stores
 * `now() AT TIME ZONE 'utc'` in a `timestamp without time zone`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { engines, randomStreamName } from '../support/databases.ts';

process.env.TZ = 'America/New_York';

for (const engine of engines) {
  describe(`time on ${engine.name} with TZ=America/New_York`, () => {
    test('a message written now reads back with the current UTC instant', async () => {
      assert.notEqual(new Date(2026, 0, 15).getTimezoneOffset(), 0, 'the process really is off UTC');
      const client = await engine.open();
      const streamName = randomStreamName();
      const before = Date.now();
      await client.writeMessage({ streamName, type: 'T' });
      const after = Date.now();
      const message = await client.getLastStreamMessage(streamName);
      const time = message!.time.getTime();
      // The server's clock is this machine's clock; allow for timestamp rounding only.
      assert.ok(
        time >= before - 1000 && time <= after + 1000,
        `${message!.time.toISOString()} within [${new Date(before).toISOString()}, ${new Date(after).toISOString()}]`,
      );
    });
  });
}
