/**
 * `messagedb console` in a real browser: the built command runs as a subprocess on a seeded
 * PostgreSQL database (--url), and one Chromium (through playwright-core) opens its views. Each
 * view renders its data; links lead category -> stream -> message -> cause; the live tail and the
 * lag chart follow writes made while the page is open; message contents show as text; the token
 * and the read-only mode hold. Screenshots of each view go to test-artifacts/console/.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { before, describe, test } from 'node:test';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { Consumer, type MessageDbClient, deadLetterStreamName, listDeadLetters, recordPosition } from '../../src/index.ts';
import { assertFails, runCli } from '../cli/cli-process.ts';
import { createDatabase, postgresClient, randomCategory } from '../support/databases.ts';
import { type ConsoleProcess, openBrowser, screenshot, startConsoleProcess } from './console-support.ts';

const markup = '<img src=x onerror=window.__injected=1>';

describe('messagedb console in Chromium', () => {
  let client: MessageDbClient;
  let browser: BrowserContext;
  let readOnly: ConsoleProcess;
  let writable: ConsoleProcess;
  let url: string;
  const category = randomCategory('consoleTest');
  const commandCategory = `${category}:command`;
  let causePosition: number;
  let causedGlobalPosition: number;
  let markupGlobalPosition: number;
  const deadLetters = deadLetterStreamName(`${category}:command`, 'worker');

  before(async () => {
    const database = await createDatabase();
    url = database.url;
    client = await postgresClient({}, database);
    for (let account = 1; account <= 3; account++) {
      await client.writeMessages(
        Array.from({ length: 15 * account }, (_, index) => ({
          streamName: `${category}-${account}`,
          type: index % 2 === 0 ? 'Deposited' : 'Withdrawn',
          data: { index },
        })),
      );
    }
    causePosition = await client.writeMessage({ streamName: `${commandCategory}-1`, type: 'Deposit', data: { amount: 5 } });
    await client.writeMessage({
      streamName: `${category}-1`,
      type: 'Deposited',
      data: { amount: 5 },
      metadata: { causationMessageStreamName: `${commandCategory}-1`, causationMessagePosition: causePosition, correlationStreamName: `${commandCategory}-1` },
    });
    causedGlobalPosition = (await client.getLastStreamMessage(`${category}-1`))?.globalPosition ?? 0;
    await client.writeMessage({ streamName: `${category}-markup`, type: 'Noted', data: { note: markup } });
    markupGlobalPosition = (await client.getLastStreamMessage(`${category}-markup`))?.globalPosition ?? 0;
    await recordPosition(client, `${category}:position-worker`, 10);
    await recordPosition(client, `${category}:position-balances-0`, 20, { consumerGroup: { member: 0, size: 2 } });
    await recordPosition(client, `${category}:position-balances-1`, 20, { consumerGroup: { member: 1, size: 2 } });
    // A consumer whose handler fails parks the message in its dead-letter stream.
    const failing = new Consumer(client, {
      category: commandCategory,
      identifier: 'worker',
      pollIntervalMs: 20,
      onError: { retries: 0, afterRetries: 'dead-letter' },
    });
    failing.on('Deposit', () => {
      throw new Error('<b>refused</b>');
    });
    const running = failing.start();
    await until(async () => (await listDeadLetters(client, deadLetters)).length === 1, 'a parked message', 30_000);
    await failing.stop();
    await running;
    [readOnly, writable, browser] = await Promise.all([
      startConsoleProcess(['--url', url]),
      startConsoleProcess(['--url', url, '--allow-writes']),
      openBrowser(),
    ]);
  });

  async function open(path: string, console = readOnly): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(new URL(path, console.url).toString());
    return page;
  }

  test('the overview lists the categories with their counts and newest message', async () => {
    const page = await open('/');
    const row = page.locator(`tr[data-category="${category}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[0], category);
    assert.equal(cells[1], '92', 'messages: 15 + 30 + 45 + 1 caused + 1 with markup');
    assert.equal(cells[2], '4', 'streams');
    assert.match(await shown(page.locator('.totals')), /categories/);
    await screenshot(page, 'overview');
    await page.close();
  });

  test('navigation leads from a category to a stream, to a message and to its cause', async () => {
    const page = await open('/');
    await page.locator(`tr[data-category="${category}"] a`).click();
    await page.locator('[data-view="category"] tr[data-type="Deposited"]').waitFor();
    assert.match(await shown(page.locator('[data-view="category"] .types')), /Withdrawn/);
    await page.locator('[data-view="category"] .tail[data-live="live"]').waitFor();
    await screenshot(page, 'category');
    await page.locator(`tr[data-stream="${category}-1"] a`).click();
    await page.locator(`[data-view="stream"][data-stream="${category}-1"]`).waitFor();
    assert.match(await shown(page.locator('.totals')), /version 15/);
    await screenshot(page, 'stream');
    // The newest message of account 1 is the caused one, at position 15.
    await page.locator('table.messages tr').nth(1).locator('td').nth(1).locator('a').click();
    await page.locator('[data-view="message"]').waitFor();
    assert.equal(new URL(page.url()).pathname, `/streams/${encodeURIComponent(`${category}-1`)}/15`);
    assert.match(await shown(page.locator('.time')), /UTC/);
    assert.match(await shown(page.locator('.data')), /amount: 5/);
    await screenshot(page, 'message');
    await page.locator('a.cause').click();
    await page.locator(`[data-view="message"]`).waitFor();
    await page.waitForURL((location) => location.pathname === `/streams/${encodeURIComponent(`${commandCategory}-1`)}/${causePosition}`);
    assert.match(await shown(page.locator('h1')), /Deposit$/);
    await page.goBack();
    await page.locator('a.cause').waitFor();
    // The correlated messages: those of the category whose correlationStreamName is of the command category.
    await page.locator('a.correlated').click();
    await page.locator('.tail[data-live="live"]').waitFor();
    assert.deepEqual(await page.locator('.tail tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-global-position'))), [
      String(causedGlobalPosition),
    ]);
    await page.close();
  });

  test('a stream pages both ways, newest first and oldest first', async () => {
    const page = await open(`/streams/${encodeURIComponent(`${category}-3`)}`);
    const positions = async () => (await page.locator('table.messages tbody tr td:nth-child(2)').allInnerTexts()).map(Number);
    await page.locator('table.messages tbody tr').first().waitFor();
    assert.deepEqual(await positions(), range(44, 25));
    await page.getByText('Older →').click();
    await page.waitForURL(/position=24/);
    await firstPosition(page, 24);
    assert.deepEqual(await positions(), range(24, 5));
    await page.getByText('Oldest').click();
    await firstPosition(page, 0);
    assert.deepEqual(await positions(), range(0, 19));
    await page.getByText('Older →').waitFor({ state: 'detached' });
    await page.getByText('← Newer').click();
    await firstPosition(page, 20);
    assert.deepEqual(await positions(), range(20, 39));
    await page.close();
  });

  test('the live tail shows a message written after the page opened within a second', async () => {
    const page = await open(`/categories/${encodeURIComponent(category)}`);
    await page.locator('.tail[data-live="live"]').waitFor();
    const position = await client.writeMessage({ streamName: `${category}-live`, type: 'Arrived', data: { live: true } });
    const written = await client.getLastStreamMessage(`${category}-live`);
    assert.equal(written?.position, position);
    const started = performance.now();
    await page.locator(`.tail tr[data-global-position="${written?.globalPosition}"]`).waitFor({ timeout: 1000 });
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 1000, `shown after ${elapsedMs} ms`);
    await page.close();
  });

  test('the consumers view shows lag and groups, and its lag chart moves when a consumer catches up', async () => {
    const page = await open('/consumers');
    const worker = `${category}:position-worker`;
    await page.locator(`tr[data-position-stream="${worker}"]`).first().waitFor();
    const head = await client.categoryHead(category);
    const lagOf = async () => JSON.parse((await page.locator('.lag-chart').getAttribute('data-lags')) ?? '{}')[worker];
    await until(async () => (await lagOf()) > 0, 'a lag above 0');
    assert.ok((await lagOf()) >= head - 10 - 1, 'lag from position 10');
    assert.match(await shown(page.locator('[data-group="balances"] h3')), /2 members/);
    await screenshot(page, 'consumers');
    const samples = Number(await page.locator('.lag-chart').getAttribute('data-samples'));
    await recordPosition(client, worker, await client.categoryHead(category));
    await until(async () => (await lagOf()) === 0, 'the lag back to 0');
    assert.ok(Number(await page.locator('.lag-chart').getAttribute('data-samples')) > samples);
    assert.equal((await shown(page.locator(`tr[data-position-stream="${worker}"] td.lag`).first())).trim(), '0');
    await screenshot(page, 'consumers-caught-up');
    await page.close();
  });

  test('a message with HTML in its data shows those characters as text', async () => {
    const page = await open(`/streams/${encodeURIComponent(`${category}-markup`)}/0`);
    await page.locator('[data-view="message"]').waitFor();
    assert.match(await shown(page.locator('.data')), /<img src=x onerror=window.__injected=1>/);
    assert.equal(await page.locator('main img').count(), 0);
    const category_ = await open(`/categories/${encodeURIComponent(category)}`);
    await category_.locator(`.tail tr[data-global-position="${markupGlobalPosition}"]`).waitFor();
    assert.match(await shown(category_.locator(`.tail tr[data-global-position="${markupGlobalPosition}"] .preview`)), /<img src=x/);
    assert.equal(await page.evaluate('typeof window.__injected'), 'undefined');
    assert.equal(await category_.evaluate('typeof window.__injected'), 'undefined');
    await page.close();
    await category_.close();
  });

  test('search finds a message by its id and a stream by its name', async () => {
    const message = await client.getLastStreamMessage(`${category}-2`);
    const page = await open('/');
    await page.locator('input[name="q"]').fill(message?.id ?? '');
    await page.locator('form.search button').click();
    await page.locator('[data-view="search"] .results').waitFor();
    await page.locator('[data-view="search"] a').first().click();
    await page.locator('[data-view="message"]').waitFor();
    assert.match(await shown(page.locator('dl.facts')), new RegExp(message?.id ?? 'none'));
    const byName = await open(`/search?q=${encodeURIComponent(`${category}-2`)}`);
    assert.match(await shown(byName.locator('[data-view="search"] .results')), /Stream .* at version 29/);
    await screenshot(byName, 'search');
    await page.close();
    await byName.close();
  });

  test('the replicas view says when none are configured', async () => {
    const page = await open('/replicas');
    assert.match(await shown(page.locator('[data-view="replicas"]')), /No read replicas configured/);
    await page.close();
  });

  test('read-only mode refuses writes; with --allow-writes the page writes with its token from its own origin', async () => {
    const body = JSON.stringify({ type: 'Forced', data: {} });
    const path = `/api/streams/${encodeURIComponent(`${category}-written`)}/messages`;
    const refused = await fetch(new URL(path, readOnly.url), {
      method: 'POST',
      body,
      headers: { origin: readOnly.origin, 'content-type': 'application/json' },
    });
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { error: string }).error, /read-only/);
    const readOnlyPage = await open(`/streams/${encodeURIComponent(`${category}-1`)}`);
    await readOnlyPage.locator('[data-view="stream"]').waitFor();
    assert.equal(await readOnlyPage.locator('form.write').count(), 0);
    await readOnlyPage.close();
    // With writes allowed: no token, or another origin, is still refused.
    const noToken = await fetch(new URL(path, writable.url), { method: 'POST', body, headers: { origin: writable.origin } });
    assert.equal(noToken.status, 403);
    const page = await open(`/streams/${encodeURIComponent(`${category}-written`)}`, writable);
    await page.locator('form.write').waitFor();
    const token = await page.evaluate(async () => ((await (await fetch('/api/info')).json()) as { writeToken: string }).writeToken);
    const crossOrigin = await fetch(new URL(path, writable.url), {
      method: 'POST',
      body,
      headers: { origin: 'http://evil.example', 'x-messagedb-console-token': token },
    });
    assert.equal(crossOrigin.status, 403);
    assert.equal(await client.getLastStreamMessage(`${category}-written`), null);
    await page.locator('input[name="type"]').fill('Written');
    await page.locator('textarea[name="data"]').fill(`{"note": ${JSON.stringify(markup)}}`);
    await page.locator('form.write button').click();
    await page.locator('form.write .result').waitFor();
    assert.match(await shown(page.locator('form.write .result')), /written at position 0/);
    const written = await client.getLastStreamMessage<{ note: string }>(`${category}-written`);
    assert.equal(written?.type, 'Written');
    assert.equal(written?.data.note, markup);
    await page.close();
  });

  test('the dead letters view lists parked messages; replay and discard need --allow-writes', async () => {
    const list = await open('/dead-letters');
    await list.locator(`tr[data-dead-letter-stream="${deadLetters}"]`).waitFor();
    assert.deepEqual((await list.locator(`tr[data-dead-letter-stream="${deadLetters}"] td`).allInnerTexts()).slice(1), ['1', '0', '0', '0']);
    await list.locator(`tr[data-dead-letter-stream="${deadLetters}"] a`).click();
    await list.locator('[data-view="dead-letter-stream"] tr[data-state="parked"]').waitFor();
    assert.match(await shown(list.locator('[data-view="dead-letter-stream"] tbody')), /Error: <b>refused<\/b>/);
    assert.equal(await list.locator('button.replay').count(), 0, 'read-only: no decisions');
    await screenshot(list, 'dead-letters');
    await list.close();
    const [parked] = await listDeadLetters(client, deadLetters);
    const refused = await fetch(new URL(`/api/dead-letters/${encodeURIComponent(deadLetters)}/discard`, readOnly.url), {
      method: 'POST',
      body: JSON.stringify({ globalPositions: [parked?.globalPosition] }),
      headers: { origin: readOnly.origin },
    });
    assert.equal(refused.status, 403);
    const page = await open(`/dead-letters/${encodeURIComponent(deadLetters)}`, writable);
    await page.locator('button.discard').click();
    await page.locator('tr[data-state="discarded"]').waitFor();
    assert.equal((await listDeadLetters(client, deadLetters))[0]?.state, 'discarded');
    await page.close();
  });

  test('the doctor view shows the findings of diagnose()', async () => {
    const page = await open('/doctor');
    await page.locator('[data-view="doctor"] tr[data-code="server-settings"]').first().waitFor();
    await screenshot(page, 'doctor');
    await page.close();
  });

  test('a console on loopback answers only to a loopback host name', async () => {
    const { port } = new URL(readOnly.url);
    const status = (host: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/api/overview', headers: { host } }, (response) => {
          response.resume();
          resolve(response.statusCode);
        })
          .once('error', reject)
          .end();
      });
    assert.equal(await status(`localhost:${port}`), 200);
    assert.equal(await status(`evil.example:${port}`), 403, 'a rebound domain name is refused');
  });

  test('a console off loopback refuses every request without its token', async () => {
    const open_ = await startConsoleProcess(['--url', url, '--host', '0.0.0.0']);
    const printed = new URL(open_.url);
    const token = printed.searchParams.get('token') ?? '';
    assert.ok(token.length >= 16, 'a generated token in the printed URL');
    const base = `http://127.0.0.1:${printed.port}`;
    for (const path of ['/', '/consumers', '/assets/app.js', '/api/overview', `/api/categories/${category}/tail?after=0`]) {
      const response = await fetch(base + path);
      assert.equal(response.status, 403, path);
      const wrong = await fetch(`${base + path}${path.includes('?') ? '&' : '?'}token=${token.slice(1)}x`);
      assert.equal(wrong.status, 403, `${path} with a wrong token`);
    }
    const page = await browser.newPage();
    await page.goto(`${base}/?token=${token}`);
    await page.locator(`tr[data-category="${category}"]`).waitFor();
    // The page's later requests (API, files, the live tail) carry the token in the cookie it set.
    await page.locator(`tr[data-category="${category}"] a`).click();
    await page.locator('.tail[data-live="live"]').waitFor();
    await page.close();
    await open_.stop();
  });
});

/** The text a locator's element renders (Playwright's innerText: cells apart, as a user reads them). */
function shown(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, the rendered text, is what is asserted
  return locator.innerText();
}

describe('messagedb console options', () => {
  test('bad options fail with exit 2 before anything is opened', async () => {
    assertFails(await runCli(['console', '--data-dir', 'x', '--replica', 'postgres://replica/db']), 2, /--replica needs a server: give --url/);
    assertFails(await runCli(['console', '--token', 'short']), 2, /--token must be at least 16 characters/);
    assertFails(await runCli(['console', '--port', '70000']), 2, /--port takes a port from 0 to 65535/);
  });
});

/** Wait until the first row of the page's message table is at `position`. */
async function firstPosition(page: Page, position: number): Promise<void> {
  const cell = page.locator('table.messages tbody tr').first().locator('td').nth(1);
  await until(async () => (await shown(cell)).trim() === String(position), `position ${position} first`);
}

/** Poll `condition` until it holds; fail after `timeoutMs`. */
// Hoisted: the seeding in before() uses it too.
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The integers from `from` to `to`, either way. */
function range(from: number, to: number): number[] {
  const step = from <= to ? 1 : -1;
  return Array.from({ length: Math.abs(to - from) + 1 }, (_, index) => from + index * step);
}
