/**
 * The published declarations, as a TypeScript user meets them: a project with `strict` and without
 * `skipLibCheck` that installs the package and its runtime dependencies, without the optional peers
 * (prom-client, @opentelemetry/api), must compile; with the peers, their Registry and Tracer must be
 * accepted as telemetry options. The package is laid out from this tree's declarations in a temporary
 * directory whose node_modules links only what an install would bring, so nothing goes to the network.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', '.bin', 'tsc');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

/** Run this repository's tsc; resolves with its exit code and output (diagnostics go to stdout). */
function runTsc(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(tsc, args, { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** A consumer project in `dir`: the package, the given modules of this repository linked in, one source file. */
function consumerProject(dir: string, packageDir: string, modules: string[], source: string): void {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  // A copy, not a link: the package's own imports must resolve from the project's node_modules.
  cpSync(packageDir, join(dir, 'node_modules', 'messagedb'), { recursive: true });
  for (const name of modules) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), link, 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(dir, 'app.ts'), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        types: ['node'],
        noEmit: true,
      },
      files: ['app.ts'],
    }),
  );
}

/** What `npm install messagedb` brings: the runtime dependencies, plus @types/node as a Node project has. */
const installed = [...Object.keys(manifest.dependencies), '@types/node'];

let scratch = '';
let packageDir = '';

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'messagedb-types-'));
  packageDir = join(scratch, 'package');
  // Type errors in the source are `npm run typecheck`'s to report; tsc still writes the declarations.
  const emitted = await runTsc(['-p', 'tsconfig.json', '--emitDeclarationOnly', '--declarationMap', 'false', '--outDir', join(packageDir, 'dist')]);
  assert.ok(existsSync(join(packageDir, 'dist', 'index.d.ts')), `no declarations were written:\n${emitted.output}`);
  cpSync(join(root, 'package.json'), join(packageDir, 'package.json'));
});

after(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

test('the published types of messagedb and messagedb/testing compile with strict and without skipLibCheck when the optional peers are not installed', async () => {
  const dir = join(scratch, 'without-peers');
  consumerProject(
    dir,
    packageDir,
    installed,
    [
      "import * as messagedb from 'messagedb'",
      "import { MessageDbClient, type TelemetryConfig } from 'messagedb'",
      "import * as testing from 'messagedb/testing'",
      "import { createTestClient, expectWritten, given, sequentialIds, type TestClientConfig } from 'messagedb/testing'",
      '',
      'export type Api = typeof messagedb',
      'export type TestingApi = typeof testing',
      'const telemetry: TelemetryConfig = { metrics: true, tracing: true }',
      'export const open = (): Promise<MessageDbClient> => MessageDbClient.embedded({ ...telemetry })',
      "// The second entry point hands out the first one's client: one copy of the package.",
      'const config: TestClientConfig = { messageId: sequentialIds(), ...telemetry }',
      'export async function check(): Promise<number> {',
      '  const client: MessageDbClient = await createTestClient(config)',
      "  const opened = await given(client, 'account-1', { type: 'Opened', data: { owner: 'Ada' } })",
      "  const found = await expectWritten(client, 'account-1', { type: 'Opened' })",
      '  return opened.position + found.globalPosition',
      '}',
      '',
    ].join('\n'),
  );
  // The premise: neither peer can be resolved from the project.
  const requireFromProject = createRequire(join(dir, 'app.ts'));
  for (const peer of ['prom-client', '@opentelemetry/api']) {
    assert.throws(() => requireFromProject.resolve(peer), { code: 'MODULE_NOT_FOUND' }, `${peer} resolves from the test project`);
  }

  const { code, output } = await runTsc(['-p', join(dir, 'tsconfig.json')]);
  assert.equal(output, '', 'tsc reported errors');
  assert.equal(code, 0);
});

test('with the peers installed, a prom-client Registry and an OpenTelemetry Tracer are accepted, and a stand-in that is neither is refused', async () => {
  const dir = join(scratch, 'with-peers');
  consumerProject(
    dir,
    packageDir,
    [...installed, 'prom-client', '@opentelemetry/api'],
    [
      "import { trace } from '@opentelemetry/api'",
      "import { Registry } from 'prom-client'",
      "import { MessageDbClient, type TelemetryConfig } from 'messagedb'",
      '',
      "const telemetry: TelemetryConfig = { metrics: new Registry(), tracing: trace.getTracer('app') }",
      'export const open = (): Promise<MessageDbClient> => MessageDbClient.embedded({ ...telemetry })',
      '// @ts-expect-error an object without the Tracer methods is not a Tracer',
      'export const notATracer: TelemetryConfig = { tracing: { startSpan() {} } }',
      '// @ts-expect-error an object without the Registry methods is not a Registry',
      'export const notARegistry: TelemetryConfig = { metrics: { metrics: () => "" } }',
      '',
    ].join('\n'),
  );
  const { code, output } = await runTsc(['-p', join(dir, 'tsconfig.json')]);
  assert.equal(output, '', 'tsc reported errors');
  assert.equal(code, 0);
});
