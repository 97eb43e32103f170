/**
 * The component host's signals, sent for real to a host in a child process (test/support/host-child.ts)
 * running two consumers on a real server: SIGTERM stops it gracefully, awaiting the handler in
 * flight and recording its position, and the process exits 0; SIGTSTP pauses it (its readiness
 * probe says so and nothing is handled) and SIGCONT resumes it; a second SIGINT while stopping
 * exits at once with 130.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { before, describe, test } from 'node:test';
import { positionStreamName, type MessageDbClient } from '../../src/index.ts';
import { createDatabase, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { eventually } from '../support/consumer-support.ts';

interface HostChild {
  lines: string[];
  /** Resolves with the first line (after `from`, an index into lines) that matches. */
  line(pattern: RegExp, from?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

const deadlineMs = 60_000;

function startHost(url: string, category: string, env: Record<string, string> = {}): HostChild {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/host-child.ts'], {
    env: { ...process.env, HOST_URL: url, HOST_CATEGORY: category, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`host child: ${line}\n`));
  const lines: string[] = [];
  const waits: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const wake of [...waits]) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
      for (const wake of [...waits]) wake();
    }),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  return {
    lines,
    exited,
    kill: (signal) => child.kill(signal),
    line: (pattern, from = 0) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern} (lines: ${lines.join(' | ')})`)), deadlineMs);
        const finish = (error?: Error, found?: string): void => {
          clearTimeout(timer);
          waits.splice(waits.indexOf(check), 1);
          if (error !== undefined) reject(error);
          else resolve(found as string);
        };
        const check = (): void => {
          const found = lines.slice(from).find((line) => pattern.test(line));
          if (found !== undefined) finish(undefined, found);
          else if (ended) finish(new Error(`the host exited without printing ${pattern} (lines: ${lines.join(' | ')})`));
        };
        waits.push(check);
        check();
      }),
  };
}

async function readyStatus(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/ready`)).status;
}

describe('component host signals (child process, real server)', () => {
  let database: TestDatabase;
  let client: MessageDbClient;
  before(async () => {
    database = await createDatabase();
    client = await postgresClient({}, database);
  });

  test('SIGTERM stops the host gracefully: the handler in flight finishes, its position is recorded, and the process exits 0', async () => {
    const category = randomCategory('hostTerm');
    const host = startHost(database.url, category, { HOST_SLOW_MS: '2500' });
    const port = Number((await host.line(/^port \d+$/)).split(' ')[1]);
    await eventually(async () => (await readyStatus(port)) === 200, 'the host is ready');
    await client.writeMessage({ streamName: `${category}-1`, type: 'Slow' });
    const [slow] = await client.getStreamMessages(`${category}-1`);
    assert.ok(slow !== undefined);
    await host.line(new RegExp(`^handling ${slow.globalPosition}$`));
    host.kill('SIGTERM');
    const { code, signal } = await host.exited;
    assert.equal(signal, null);
    assert.equal(code, 0);
    const order = host.lines.filter((line) => /^(handled \d+|state stopping|state stopped|exit)$/.test(line));
    assert.deepEqual(order, ['state stopping', `handled ${slow.globalPosition}`, 'state stopped', 'exit']);
    // The handling member recorded the slow message as handled on its way out.
    const recorded = await Promise.all(
      [0, 1].map((member) => client.getLastStreamMessage<{ position: number }>(positionStreamName(category, `host-${member}`))),
    );
    assert.ok(
      recorded.some((record) => record?.data.position === slow.globalPosition),
      `a member recorded ${slow.globalPosition}: ${JSON.stringify(recorded.map((r) => r?.data))}`,
    );
  });

  test('SIGTSTP pauses every consumer (not ready, nothing handled) and SIGCONT resumes them', async () => {
    const category = randomCategory('hostPause');
    const host = startHost(database.url, category);
    const port = Number((await host.line(/^port \d+$/)).split(' ')[1]);
    await eventually(async () => (await readyStatus(port)) === 200, 'the host is ready');
    host.kill('SIGTSTP');
    await host.line(/^state paused$/);
    await eventually(async () => (await readyStatus(port)) === 503, 'the paused host is not ready');
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200, 'a paused host is alive');
    // Pausing stops each consumer gracefully; once both are paused nothing can read the category.
    await eventually(async () => {
      const body = (await (await fetch(`http://127.0.0.1:${port}/ready`)).json()) as { components: Array<{ state: string }> };
      return body.components.every((component) => component.state === 'paused');
    }, 'both consumers are paused');
    await client.writeMessages([0, 1, 2, 3].map((id) => ({ streamName: `${category}-${id}`, type: 'Quick' })));
    // Many poll intervals (50 ms) pass while paused: none may handle a message.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(host.lines.filter((line) => line.startsWith('handling')).length, 0, 'nothing is handled while paused');
    const resumedAt = host.lines.length;
    host.kill('SIGCONT');
    await host.line(/^state running$/, resumedAt);
    await eventually(async () => host.lines.filter((line) => line.startsWith('handled')).length === 4, 'the 4 messages are handled after SIGCONT');
    await eventually(async () => (await readyStatus(port)) === 200, 'the resumed host is ready');
    host.kill('SIGTERM');
    assert.deepEqual(await host.exited, { code: 0, signal: null });
  });

  test('a second SIGINT while the host is stopping exits at once with 130', async () => {
    const category = randomCategory('hostInt');
    const host = startHost(database.url, category, { HOST_SLOW_MS: '60000' });
    await host.line(/^port \d+$/);
    await client.writeMessage({ streamName: `${category}-1`, type: 'Slow' });
    await host.line(/^handling \d+$/);
    host.kill('SIGINT');
    await host.line(/^state stopping$/);
    host.kill('SIGINT');
    assert.deepEqual(await host.exited, { code: 130, signal: null });
    assert.equal(host.lines.filter((line) => line.startsWith('handled')).length, 0);
  });
});
