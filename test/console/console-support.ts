/**
 * What the console's browser tests share: the built `messagedb console` run as a subprocess (its
 * URL read from stdout), one real Chromium (the distribution's, through playwright-core) with a
 * fresh profile, and screenshots saved under test-artifacts/console/ (not committed).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { onFileEnd } from '../support/databases.ts';
import { LineReader, exitCode, spawnCli } from '../cli/cli-process.ts';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium's switches: headless, and none of its own network traffic (update checks, sync, QUIC probes). */
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const artifactsDirectory = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));

/** A browser context with a fresh, empty profile, closed (and its profile removed) when the file ends. */
export async function openBrowser(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'messagedb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1280, height: 800 },
  });
  onFileEnd(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/** A running `messagedb console`: its printed URL and its origin. */
export interface ConsoleProcess {
  url: string;
  origin: string;
  stop(): Promise<void>;
}

/** Start `messagedb console` with these arguments; stopped (Ctrl-C) when the file ends. */
export async function startConsoleProcess(args: readonly string[]): Promise<ConsoleProcess> {
  const child = spawnCli(['console', ...args]);
  const reader = new LineReader(child);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      child.kill('SIGINT');
      await exitCode(child);
    })();
    return stopped;
  };
  onFileEnd(stop);
  await reader.until(() => reader.lines.some((line) => line.startsWith('http://')), 'the console URL');
  const url = reader.lines.find((line) => line.startsWith('http://')) ?? '';
  return { url, origin: new URL(url).origin, stop };
}

/** Save a screenshot of the page as test-artifacts/console/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifactsDirectory, { recursive: true });
  await page.screenshot({ path: join(artifactsDirectory, `${name}.png`), fullPage: true });
}
