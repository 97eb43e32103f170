/**
 * The test kit's stores: a new one per call, isolated from every other, with Message DB installed;
 * one shared per process; options passed through; close() honoured, and nothing left running.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MESSAGE_DB_VERSION, MessageDbClient, isClosedError, isInvalidArgumentError } from '../../src/index.ts';
import { closeSharedTestClient, createTestClient, randomStreamName, sequentialIds, sharedTestClient } from '../../src/testing/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

after(() => closeSharedTestClient());

test('a test client is an in-memory embedded client with Message DB installed', async () => {
  await using client = await createTestClient();
  assert.equal(client.engine, 'pglite');
  assert.equal(await client.messageStoreVersion(), MESSAGE_DB_VERSION);
  assert.deepEqual(await client.install(), { action: 'verified', version: MESSAGE_DB_VERSION });
});

test('two test clients are isolated: what one writes, the other never sees, and both start empty', async () => {
  await using first = await createTestClient();
  await using second = await createTestClient();
  const stream = randomStreamName('account');
  await first.writeMessage({ streamName: stream, type: 'Opened', data: { owner: 'Ada' } });
  await second.writeMessage({ streamName: stream, type: 'Opened', data: { owner: 'Grace' } });
  assert.deepEqual(
    (await first.getStreamMessages(stream)).map((message) => [message.position, message.globalPosition, message.data]),
    [[0, 1, { owner: 'Ada' }]],
  );
  assert.deepEqual(
    (await second.getStreamMessages(stream)).map((message) => [message.position, message.globalPosition, message.data]),
    [[0, 1, { owner: 'Grace' }]],
  );
  // A client made after both writes starts from the template, not from either of them.
  await using third = await createTestClient();
  assert.deepEqual(await third.getStreamMessages(stream), []);
  assert.deepEqual(await third.query('SELECT count(*) AS n FROM message_store.messages'), [{ n: '0' }]);
});

test('creating a test client after the first takes well under the time of a new embedded database (generous bound: 15 s each under load)', async () => {
  // The template exists already: the tests above made test clients in this process.
  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const client = await createTestClient();
    times.push(performance.now() - started);
    await client.close();
  }
  // The target (a median under 500 ms) is measured by bench/test-kit.ts; this bound only catches a
  // kit that installs Message DB every time or hangs.
  for (const ms of times) assert.ok(ms < 15_000, `a test client took ${Math.round(ms)} ms (${times.map(Math.round).join(', ')})`);
});

test('a test client takes the embedded client options: a messageId source gives written messages its ids', async () => {
  await using client = await createTestClient({ messageId: sequentialIds(7) });
  const stream = randomStreamName();
  await client.writeMessage({ streamName: stream, type: 'Opened' });
  await client.writeMessages([
    { streamName: stream, type: 'Deposited' },
    { streamName: stream, type: 'Deposited', id: '11111111-1111-4111-8111-111111111111' },
  ]);
  await client.transaction((tx) => tx.writeMessage({ streamName: stream, type: 'Withdrawn' }));
  assert.deepEqual(
    (await client.getStreamMessages(stream)).map((message) => message.id),
    [
      '00000000-0000-4000-8000-000000000007',
      '00000000-0000-4000-8000-000000000008',
      '11111111-1111-4111-8111-111111111111',
      '00000000-0000-4000-8000-000000000009',
    ],
  );
});

test('close() is honoured: later calls fail with ClosedError, and a second close() resolves', async () => {
  const client = await createTestClient();
  await client.close();
  assert.equal(client.closed, true);
  await assert.rejects(client.getStreamMessages(randomStreamName()), isClosedError);
  await client.close();
});

test('the shared test client is one per process until closed; then the next call opens a new one', async () => {
  const shared = await sharedTestClient();
  assert.equal(await sharedTestClient(), shared);
  const [a, b] = await Promise.all([sharedTestClient(), sharedTestClient()]);
  assert.equal(a, shared);
  assert.equal(b, shared);
  await shared.close();
  const next = await sharedTestClient();
  assert.notEqual(next, shared);
  assert.equal(next.closed, false);
  await closeSharedTestClient();
  assert.equal(next.closed, true);
  await closeSharedTestClient();
});

test('embedded({ loadDataDir }) refuses a value that is not a dump, and a dataDir beside it, before opening anything', async () => {
  await assert.rejects(MessageDbClient.embedded({ loadDataDir: 'template.tar' as unknown as Blob }), (error) => {
    assert.ok(isInvalidArgumentError(error));
    assert.match(error.message, /^loadDataDir must be a Blob/);
    return true;
  });
  await assert.rejects(
    MessageDbClient.embedded({ loadDataDir: new Blob([]), dataDir: '/nonexistent/never-created' }),
    /loadDataDir is for an in-memory database/,
  );
  await assert.rejects(MessageDbClient.embedded({ messageId: 'x' as unknown as () => string }), /^InvalidArgumentError: messageId must be a function/);
});

test('a process that used the shared test client ends by itself, without closing it', async () => {
  const script = [
    `import { sharedTestClient, given } from ${JSON.stringify(`${root}src/testing/index.ts`)};`,
    // The shared client is a test client (a copy of the template) kept for the whole process.
    "await given(await sharedTestClient(), 'account-1', { type: 'Opened' });",
    "process.stdout.write('done');",
  ].join('\n');
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`the child did not end by itself: ${stderr}`, { cause: error }));
      else resolve(stdout);
    });
  });
  assert.equal(output, 'done');
});
