/**
 * What `npm pack` puts in the package: the license that package.json names, and every file that a
 * packed markdown file links to (the README's links to docs/ and its siblings), so that no link in
 * the installed package, or on the registry's page, leads nowhere; and none of the repo's benchmark
 * harness (bench/), nor a dist/bench/ left by an older build.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

let packed = new Set<string>();

before(async () => {
  // --ignore-scripts: list the files without running `prepare` (a build) first.
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts'],
      { cwd: root, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`npm pack failed: ${stderr}`, { cause: error }));
        else resolve(stdout);
      },
    );
  });
  const [pack] = JSON.parse(output) as Array<{ files: Array<{ path: string }> }>;
  assert.ok(pack !== undefined, 'npm pack listed no package');
  packed = new Set(pack.files.map((file) => file.path));
});

test('the package ships the LICENSE that package.json names', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license: string };
  assert.ok(packed.has('LICENSE'), `LICENSE is not packed (packed: ${[...packed].filter((path) => !path.startsWith('dist/')).join(', ')})`);
  assert.equal(manifest.license, 'MIT');
  assert.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} /);
});

/** The relative link targets of a markdown file: `[text](path)` and `![alt](path)`, without their `#anchor`. */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#')).map((target) => decodeURI(target.split('#')[0] as string));
}

test('every relative link in a packed markdown file (the README first) leads to a packed file', () => {
  const markdown = [...packed].filter((path) => path.endsWith('.md'));
  assert.ok(markdown.includes('README.md'), 'the README is not packed');
  const readmeLinks = relativeLinks(readFileSync(join(root, 'README.md'), 'utf8'));
  assert.ok(
    readmeLinks.some((target) => target.startsWith('docs/')),
    'the README links to docs/ (the premise of this test)',
  );

  const broken: string[] = [];
  for (const file of markdown) {
    for (const target of relativeLinks(readFileSync(join(root, file), 'utf8'))) {
      const path = normalize(join(dirname(file), target)).replaceAll('\\', '/');
      if (!packed.has(path)) broken.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(broken, [], `links to files the package does not ship:\n${broken.join('\n')}`);
});

test("no file of the repo's benchmark harness is packed (bench/, dist/bench/)", () => {
  assert.ok(packed.has('dist/cli/bench.js'), 'the `messagedb bench` command is packed (the premise of this test)');
  const harness = [...packed].filter((path) => path.startsWith('bench/') || path.startsWith('dist/bench/'));
  assert.deepEqual(harness, [], `benchmark harness files in the package:\n${harness.join('\n')}`);
});
