/**
 * Every code sample in README.md and docs/*.md compiles: each ```ts block is type-checked as its own
 * ES module, strict, with 'messagedb' (and 'messagedb/testing') mapped to this tree's source, all in one tsc program; each
 * ```js block is also parsed by this Node as JavaScript, since a reader may run it as it is.
 *
 * A fragment names what it uses from outside in an HTML comment right above its fence, which
 * readers do not see and which is prepended to the block before it is checked:
 *
 *   <!-- sample: declare const client: import('messagedb').MessageDbClient -->
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve as resolvePath } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Sample {
  /** The document, relative to the repository root. */
  doc: string;
  /** The line of the block's first code line in the document (1-based). */
  line: number;
  javascript: boolean;
  code: string;
  /** Code prepended from the `<!-- sample: ... -->` comment above the fence. */
  context: string;
}

const typescriptFence = /^```(ts|typescript)\s*$/;
const javascriptFence = /^```(js|javascript|mjs)\s*$/;

/** The checked samples of one markdown document. */
function samplesOf(doc: string): Sample[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const samples: Sample[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = lines[index] as string;
    if (!fence.startsWith('```')) continue;
    const close = lines.findIndex((line, at) => at > index && line.startsWith('```'));
    assert.ok(close > index, `${doc}:${index + 1}: a code block that is never closed`);
    const javascript = javascriptFence.test(fence);
    if (javascript || typescriptFence.test(fence)) {
      samples.push({ doc, line: index + 2, javascript, code: lines.slice(index + 1, close).join('\n'), context: contextAbove(lines, index) });
    }
    index = close;
  }
  return samples;
}

/** The code of a `<!-- sample: ... -->` comment ending on the line above the fence, or ''. */
function contextAbove(lines: string[], fence: number): string {
  if (fence === 0 || !(lines[fence - 1] as string).trimEnd().endsWith('-->')) return '';
  let start = fence - 1;
  while (start > 0 && !(lines[start] as string).includes('<!--')) start--;
  const comment = lines.slice(start, fence).join('\n');
  const parts = /^<!--\s*sample:([\s\S]*)-->\s*$/.exec(comment.trim());
  return parts === null ? '' : (parts[1] as string).trim();
}

function documents(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: root, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

test('every TypeScript and JavaScript sample in README.md and docs/ type-checks (strict), and JavaScript samples parse on this Node', async () => {
  const samples = documents().flatMap(samplesOf);
  // A floor, so that a change to the fences or to this parser cannot leave nothing checked.
  assert.ok(samples.length >= 12, `only ${samples.length} samples found`);
  assert.equal(samples.find((sample) => sample.doc === 'README.md')?.javascript, true, 'the README opens with a JavaScript sample');

  mkdirSync(join(root, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(root, '.tmp', 'doc-samples-'));
  try {
    const project = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    const files = new Map<string, Sample>();
    for (const sample of samples) {
      const name = `${sample.doc.replace(/[^A-Za-z0-9]+/g, '-')}-${sample.line}.${sample.javascript ? 'mjs' : 'mts'}`;
      files.set(name, sample);
      writeFileSync(join(dir, name), sample.context === '' ? `${sample.code}\n` : `${sample.context}\n${sample.code}\n`);
    }
    const {
      rootDir: _rootDir,
      outDir: _outDir,
      declaration: _declaration,
      declarationMap: _declarationMap,
      sourceMap: _sourceMap,
      ...options
    } = project.compilerOptions;
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          ...options,
          noEmit: true,
          allowJs: true,
          checkJs: true,
          paths: { messagedb: [join(root, 'src', 'index.ts')], 'messagedb/testing': [join(root, 'src', 'testing', 'index.ts')] },
        },
        files: [...files.keys()],
      }),
    );

    const checked = await run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')]);
    // One diagnostic is a `file(line,col): error …` line and the indented lines that explain it. Those in
    // this tree's source are left to `npm run typecheck`; the rest are named by the document line they
    // come from: `docs/x.md:12:5 error TS…`.
    const diagnostics: string[] = [];
    for (const line of checked.output.split('\n')) {
      if (line === '') continue;
      if (/^\s/.test(line) && diagnostics.length > 0) diagnostics[diagnostics.length - 1] += `\n${line}`;
      else diagnostics.push(line);
    }
    const errors = diagnostics.flatMap((diagnostic) => {
      const at = /^(.*)\((\d+),(\d+)\): ([\s\S]*)$/.exec(diagnostic);
      if (at === null) return [diagnostic];
      const sample = files.get(basename(at[1] as string));
      if (sample === undefined) return resolvePath(root, at[1] as string).startsWith(join(root, 'src')) ? [] : [diagnostic];
      const contextLines = sample.context === '' ? 0 : sample.context.split('\n').length;
      const codeLine = Number(at[2]) - contextLines;
      const where = codeLine >= 1 ? `${sample.doc}:${sample.line + codeLine - 1}` : `${sample.doc}:${sample.line - 1} (the sample comment)`;
      return [`${where}:${at[3]} ${at[4]}`];
    });
    assert.deepEqual(errors, [], `samples that do not type-check:\n${errors.join('\n')}`);

    for (const [name, sample] of files) {
      if (!sample.javascript) continue;
      const plain = join(dir, `plain-${name}`);
      writeFileSync(plain, `${sample.code}\n`);
      const parsed = await run(process.execPath, ['--check', plain]);
      assert.equal(parsed.code, 0, `${sample.doc}:${sample.line}: not JavaScript that Node ${process.version} can run:\n${parsed.output}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
