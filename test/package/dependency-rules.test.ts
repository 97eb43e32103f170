/**
 * The layers of src/ keep their direction: dependency-cruiser's CLI checks src/ against the rules in
 * .dependency-cruiser.cjs (no import cycle, no folder importing a folder above it; see
 * docs/architecture.md), as `npm run lint:deps` does in CI. The module count guards against a
 * silent pass: without its TypeScript parser (swc) the tool finds no modules and reports no violation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The package exports no path to its bin, so the bin is run from node_modules, as npx would.
const cli = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

test('src/ follows the dependency rules: no cycles, imports only point down the layers', async () => {
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, [cli, 'src', '--output-type', 'err'], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
    });
  });
  assert.equal(code, 0, output);
  const cruised = Number(/\((\d+) modules,/.exec(output)?.[1] ?? 0);
  assert.ok(cruised > 50, `dependency-cruiser read only ${cruised} modules: ${output}`);
});
