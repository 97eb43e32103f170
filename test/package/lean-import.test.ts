/**
 * What `import 'messagedb'` loads: not PGlite (tens of MB of WebAssembly, for `embedded()` alone)
 * and not the command's parser or its bench workloads. A child process records every module URL its
 * loader resolves, through a module hook (`node:module` register), imports the built package, and
 * then opens an embedded client, which must load PGlite: the control that shows the recording sees it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Runs as an ES module in the child. The hook posts each resolved URL on a port; a last import of a
// marker module, once its URL arrives, shows that every URL before it has arrived too (one port, in order).
const child = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const resolved = [];
let marked;
port1.on('message', (url) => { resolved.push(url); if (url === 'node:os') marked?.(); });
const hook = 'let port; export function initialize(data) { port = data.port } ' +
  'export async function resolve(specifier, context, next) { const result = await next(specifier, context); port.postMessage(result.url); return result }';
register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
async function settled() {
  const arrived = new Promise((resolve) => (marked = resolve));
  await import('node:os');
  await arrived;
  return resolved.splice(0);
}
const { MessageDbClient } = await import(process.argv[1]);
const onImport = await settled();
const client = await MessageDbClient.embedded({ install: false });
await client.close();
const onEmbedded = await settled();
port1.close();
process.stdout.write(JSON.stringify({ onImport, onEmbedded }));
`;

function run(): Promise<{ onImport: string[]; onEmbedded: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', child, pathToFileURL(`${root}dist/index.js`).href],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`the child failed: ${stderr}`, { cause: error }));
        else resolve(JSON.parse(stdout) as { onImport: string[]; onEmbedded: string[] });
      },
    );
  });
}

test("import 'messagedb' loads neither PGlite nor commander nor bench code nor the test kit; embedded() loads PGlite", async () => {
  const { onImport, onEmbedded } = await run();
  assert.ok(
    onImport.some((url) => url.endsWith('/dist/store/client.js')),
    'the recording saw the package load',
  );
  assert.deepEqual(
    onImport.filter((url) => url.includes('/@electric-sql/pglite/') || url.includes('/commander/')),
    [],
  );
  // The command and its bench workloads (dist/cli/, dist/cli/bench/), or a dist/bench/ of an older build.
  assert.deepEqual(
    onImport.filter((url) => url.includes('/dist/cli/') || url.includes('/dist/bench/') || url.includes('/bench/')),
    [],
  );
  // The test kit is its own entry point (messagedb/testing), loaded only by those who import it.
  assert.deepEqual(
    onImport.filter((url) => url.includes('/dist/testing/')),
    [],
  );
  assert.ok(
    onEmbedded.some((url) => url.includes('/@electric-sql/pglite/')),
    `embedded() did not load PGlite: ${onEmbedded.join(', ')}`,
  );
});
