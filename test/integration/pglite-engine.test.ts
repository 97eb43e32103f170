/**
 * PGlite runs statements synchronously in WebAssembly; the engine must still let the event loop
 * turn between calls, or timers (a consumer's poll) and signals (Ctrl-C) wait for a whole loop.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pgliteClient, randomStreamName } from '../support/databases.ts';

test('a loop of awaited PGlite writes lets a 1 ms timer fire before the loop ends', async () => {
  const client = await pgliteClient();
  const stream = randomStreamName();
  let writesBeforeTimer = -1;
  let writes = 0;
  setTimeout(() => {
    writesBeforeTimer = writes;
  }, 1);
  for (; writes < 50; writes++) await client.writeMessage({ streamName: stream, type: 'T' });
  assert.ok(writesBeforeTimer >= 0 && writesBeforeTimer < 50, `timer fired after ${writesBeforeTimer} of 50 writes`);
});
