/**
 * Test stores: a new in-memory Message DB per call, or one shared by the whole process. Message DB
 * is installed once per process, in a template database whose data directory is dumped; each test
 * client is a copy loaded from that dump, which skips both the empty database's start-up and the
 * install.
 */
import { type EmbeddedConfig, MessageDbClient } from '../index.js';

/** `createTestClient()` configuration: an embedded client's options, without where its data comes from. */
export type TestClientConfig = Omit<EmbeddedConfig, 'dataDir' | 'install' | 'loadDataDir'>;

/** The dumped template, made by the first test client of the process. */
let template: Promise<Blob> | undefined;

/** The shared client of `sharedTestClient()`, once asked for. */
let shared: Promise<MessageDbClient> | undefined;

async function dumpTemplate(): Promise<Blob> {
  const client = await MessageDbClient.embedded();
  try {
    return await client.dumpDataDir();
  } finally {
    await client.close();
  }
}

/** The template's dump; a failed attempt is forgotten, so the next call tries again. */
function templateDump(): Promise<Blob> {
  if (template === undefined) {
    const made = dumpTemplate();
    template = made;
    made.catch(() => {
      if (template === made) template = undefined;
    });
  }
  return template;
}

/**
 * A new embedded client (PGlite, in memory) with Message DB installed, isolated from every other:
 * nothing written to one is seen by another. The first call in a process installs Message DB in a
 * template and dumps it; later calls load a copy of that dump. Close it when done (`await using`
 * does): a test client holds tens of MB until then.
 *
 * @example
 * await using client = await createTestClient()
 * await client.writeMessage({ streamName: 'account-1', type: 'Opened', data: {} })
 */
export async function createTestClient(config: TestClientConfig = {}): Promise<MessageDbClient> {
  const loadDataDir = await templateDump();
  return MessageDbClient.embedded({ ...config, loadDataDir, install: false });
}

/**
 * The process's shared test client, created on first use: for tests that each work in a category
 * of their own (`randomCategory()`), as Eventide's tests do, at no cost per test. Closing it is
 * allowed (`closeSharedTestClient()`); the next call then creates a new one.
 */
export async function sharedTestClient(): Promise<MessageDbClient> {
  const current = shared;
  if (current !== undefined) {
    const client = await current.catch(() => undefined);
    if (client !== undefined && !client.closed) return client;
    if (shared === current) shared = undefined;
  }
  shared ??= createTestClient();
  return shared;
}

/** Close the shared test client, if one was created (for an `after` hook); idempotent. */
export async function closeSharedTestClient(): Promise<void> {
  const current = shared;
  shared = undefined;
  const client = await current?.catch(() => undefined);
  await client?.close();
}
