/**
 * Kill and resume on a real server: a consumer in a child process is killed with SIGKILL mid-way
 * through a category; started again, it loses nothing and replays at most positionUpdateInterval
 * messages (Eventide's at-least-once contract). The parent stops reading the first child's output
 * until that child's stdout pipe is full, as a busy parent does: the child must wait, not fail.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { before, describe, test } from 'node:test';
import type { MessageDbClient } from '../../src/index.ts';
import { createDatabase, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { writeSpread } from '../support/consumer-support.ts';

interface ChildRun {
  handled: number[];
  /** Resolves when the child exits, with its signal (SIGKILL) or null. */
  exited: Promise<NodeJS.Signals | null>;
  /** Resolves once the child printed `count` handled lines. */
  handledCount(count: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** Start the child; with `stallReading`, its stdout is not read until the child says the pipe is full. */
function startChild(env: Record<string, string>, options: { stallReading?: boolean } = {}): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/consumer-child.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (line === 'stdout full') child.stdout.resume();
    else process.stderr.write(`${line}\n`);
  });
  const handled: number[] = [];
  const waits: Array<{ count: number; resolve: () => void }> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const match = /^handled (\d+)$/.exec(line);
    if (match === null) return;
    handled.push(Number(match[1]));
    for (const wait of waits.filter((w) => handled.length >= w.count)) {
      waits.splice(waits.indexOf(wait), 1);
      wait.resolve();
    }
  });
  // After createInterface, which resumes its input.
  if (options.stallReading === true) child.stdout.pause();
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_, signal) => resolve(signal)));
  return {
    handled,
    exited,
    handledCount: (count) =>
      new Promise<void>((resolve, reject) => {
        if (handled.length >= count) return resolve();
        waits.push({ count, resolve });
        void exited.then(() => reject(new Error(`the child exited after ${handled.length} of ${count} messages`)));
      }),
    kill: (signal) => child.kill(signal),
  };
}

describe('consumer killed with SIGKILL', () => {
  let database: TestDatabase;
  let client: MessageDbClient;
  before(async () => {
    database = await createDatabase();
    client = await postgresClient({}, database);
  });

  test('started again, it loses nothing and replays at most positionUpdateInterval messages', async (t) => {
    const category = randomCategory('kill');
    const total = 5000;
    const head = await writeSpread(client, category, total, 50);
    const all = (await client.getCategoryMessages(category, { batchSize: -1 })).map((m) => m.globalPosition);
    const env = { CONSUMER_URL: database.url, CONSUMER_CATEGORY: category, CONSUMER_IDENTIFIER: 'killed' };

    const first = startChild(env, { stallReading: true });
    await first.handledCount(1234);
    first.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    assert.ok(first.handled.length < total, `killed mid-way (after ${first.handled.length} messages)`);

    const second = startChild({ ...env, CONSUMER_STOP_AT: String(head) });
    assert.equal(await second.exited, null, 'the second run stopped by itself at the head');

    const handledOnce = new Set([...first.handled, ...second.handled]);
    assert.deepEqual(
      [...handledOnce].sort((a, b) => a - b),
      all,
      'nothing lost',
    );
    const replayed = second.handled.filter((position) => first.handled.includes(position));
    t.diagnostic(`killed after ${first.handled.length} messages; ${replayed.length} replayed`);
    assert.ok(replayed.length >= 1, 'the last recorded message is delivered again');
    assert.ok(replayed.length <= 100, `${replayed.length} replayed, at most positionUpdateInterval (100)`);
    assert.deepEqual(second.handled, all.slice(all.indexOf(second.handled[0] ?? -1)), 'the second run continues in order');
  });
});
