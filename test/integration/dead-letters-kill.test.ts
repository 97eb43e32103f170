/**
 * No loss between failing and parking: a consumer in a child process is killed with SIGKILL after
 * its handler failed on a message and before that message was parked. Started again, it handles
 * the message again (and parks it this time), and every other message is handled.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { before, describe, test } from 'node:test';
import { deadLetterStreamName, listDeadLetters, type MessageDbClient } from '../../src/index.ts';
import { createDatabase, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';

interface ChildRun {
  lines: string[];
  exited: Promise<NodeJS.Signals | null>;
  /** Resolves once the child printed `line`. */
  printed(line: string): Promise<void>;
  kill(): void;
}

function startChild(env: Record<string, string>): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/dead-letter-child.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waits: Array<{ line: string; resolve: () => void }> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const wait of waits.filter((w) => w.line === line)) {
      waits.splice(waits.indexOf(wait), 1);
      wait.resolve();
    }
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_, signal) => resolve(signal)));
  return {
    lines,
    exited,
    printed: (line) =>
      new Promise<void>((resolve, reject) => {
        if (lines.includes(line)) return resolve();
        waits.push({ line, resolve });
        void exited.then(() => reject(new Error(`the child exited without printing ${line}; it printed ${lines.length} lines`)));
      }),
    kill: () => child.kill('SIGKILL'),
  };
}

const handledPositions = (run: ChildRun): number[] => run.lines.flatMap((line) => (/^handled (\d+)$/.exec(line)?.[1] ?? []) as string[]).map(Number);

describe('a consumer killed between a failure and the parking', () => {
  let database: TestDatabase;
  let client: MessageDbClient;
  before(async () => {
    database = await createDatabase();
    client = await postgresClient({}, database);
  });

  test('started again, it handles the message again and parks it: nothing is lost', async () => {
    const category = randomCategory('deadKill');
    await client.writeMessages(Array.from({ length: 50 }, (_, index) => ({ streamName: `${category}-${index % 5}`, type: 'Step', data: { index } })));
    const all = (await client.getCategoryMessages(category, { batchSize: -1 })).map((message) => message.globalPosition);
    const poison = all[30] as number;
    const env = { DEAD_LETTER_URL: database.url, DEAD_LETTER_CATEGORY: category, DEAD_LETTER_POISON: String(poison), DEAD_LETTER_STOP_AT: String(all.at(-1)) };
    const streamName = deadLetterStreamName(category, 'killed');

    const first = startChild({ ...env, DEAD_LETTER_HANG: '1' });
    await first.printed(`failing ${poison}`);
    first.kill();
    assert.equal(await first.exited, 'SIGKILL');
    assert.deepEqual(await listDeadLetters(client, streamName), [], 'killed before parking');

    const second = startChild(env);
    assert.equal(await second.exited, null, 'the second run stopped by itself at the head');
    assert.ok(second.lines.includes(`failing ${poison}`), 'the failed message was handled again');
    const parked = await listDeadLetters(client, streamName);
    assert.deepEqual(
      parked.map((letter) => [letter.globalPosition, letter.state, letter.failure.attempts]),
      [[poison, 'parked', 2]],
    );
    const handled = new Set([...handledPositions(first), ...handledPositions(second)]);
    assert.deepEqual(
      all.filter((position) => !handled.has(position)),
      [poison],
      'every other message handled',
    );
  });
});
