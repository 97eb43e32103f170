/**
 * `messagedb consumers --watch` and `--metrics-port`, run as the built bin against PostgreSQL:
 * the refreshed figures and the Prometheus endpoint report position, head and lag per consumer.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { before, describe, test } from 'node:test';
import type { MessageDbClient } from '../../src/index.ts';
import { createDatabase, postgresClient, randomCategory } from '../support/databases.ts';
import { spawnCli } from './cli-process.ts';

/** Resolve with the first stream text that matches, collecting chunks as they come. */
function waitFor(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer | string): void => {
      text += String(chunk);
      const match = pattern.exec(text);
      if (match) {
        stream.off('data', onData);
        resolve(match);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended without ${pattern}: ${text}`)));
  });
}

describe('messagedb consumers --watch and --metrics-port', () => {
  let url: string;
  let client: MessageDbClient;
  let category: string;
  before(async () => {
    const database = await createDatabase();
    client = await postgresClient({}, database);
    url = database.url;
    category = randomCategory('watched');
    await client.writeMessages(Array.from({ length: 6 }, (_, i) => ({ streamName: `${category}-${i}`, type: 'T' })));
    const [, second] = await client.getCategoryMessages(category);
    await client.writeMessage({ streamName: `${category}:position-w1`, type: 'Recorded', data: { position: second!.globalPosition } });
  });

  test('--watch prints the figures again at each interval, and Ctrl-C ends it with exit 0', async () => {
    const child = spawnCli(['consumers', '--url', url, '--category', category, '--json', '--watch', '100']);
    await waitFor(child.stdout, /(\{[^\n]*\}\n[\s\S]*){3}/);
    child.kill('SIGINT');
    const [code] = await once(child, 'close');
    assert.equal(code, 0);
  });

  test('--metrics-port serves position, head and lag of each consumer to Prometheus', async () => {
    const child = spawnCli(['consumers', '--url', url, '--metrics-port', '0']);
    try {
      const [, port] = await waitFor(child.stderr, /serving http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(response.status, 200);
      const text = await response.text();
      const head = await client.categoryHead(category);
      const position = (await client.getLastStreamMessage<{ position: number }>(`${category}:position-w1`))!.data.position;
      const labels = `{position_stream="${category}:position-w1",category="${category}"}`;
      assert.match(text, new RegExp(`messagedb_consumer_position${labels.replace(/[{}+]/g, '\\$&')} ${position}\\n`));
      assert.match(text, new RegExp(`messagedb_consumer_category_head${labels.replace(/[{}+]/g, '\\$&')} ${head}\\n`));
      assert.match(text, new RegExp(`messagedb_consumer_lag${labels.replace(/[{}+]/g, '\\$&')} ${head - position}\\n`));
      assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    } finally {
      child.kill('SIGINT');
    }
    const [code] = await once(child, 'close');
    assert.equal(code, 0);
  });
});
