/**
 * The whole test in docs/testing.md runs, as written there: the ```ts block under the
 * `<!-- runs in CI: test/docs/testing-sample.test.ts -->` comment is run with `node --test`, with
 * 'messagedb' and 'messagedb/testing' mapped to this tree's source, and every test in it must pass.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const marker = '<!-- runs in CI: test/docs/testing-sample.test.ts -->';

/** The code of the ```ts block right under the marker. */
function sample(): string {
  const lines = readFileSync(join(root, 'docs/testing.md'), 'utf8').split('\n');
  const at = lines.indexOf(marker);
  assert.ok(at !== -1, `docs/testing.md has no ${marker}`);
  assert.match(lines[at + 1] as string, /^```ts\s*$/, 'the marker is right above a ```ts block');
  const close = lines.findIndex((line, index) => index > at + 1 && line.startsWith('```'));
  assert.ok(close > at, 'the block is closed');
  return lines.slice(at + 2, close).join('\n');
}

/** This environment without the variable that tells a child `node --test` it runs inside a test file. */
function childEnv(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  return env;
}

test("docs/testing.md's whole test runs with node --test, and every test in it passes", async () => {
  const code = sample()
    .replaceAll("from 'messagedb/testing'", `from ${JSON.stringify(join(root, 'src/testing/index.ts'))}`)
    .replaceAll("from 'messagedb'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`);
  assert.doesNotMatch(code, /from 'messagedb/, 'every import of the package was mapped');
  const planned = code.match(/^test\(/gm)?.length ?? 0;
  assert.ok(planned >= 3, `the sample has ${planned} tests`);
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(root, '.tmp', 'testing-sample-'));
  try {
    const file = join(dir, 'testing-sample.test.ts');
    writeFileSync(file, code);
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-reporter=tap', file],
        { cwd: root, timeout: 180_000, env: childEnv() },
        (error, stdout, stderr) => {
          resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
        },
      );
    });
    assert.equal(result.code, 0, `the sample failed:\n${result.output}`);
    assert.match(result.output, new RegExp(`^# pass ${planned}$`, 'm'), result.output);
    assert.match(result.output, /^# fail 0$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
