/**
 * docs/api.md lists the whole public surface, and nothing else: every name the built package exports
 * (the runtime values of dist/index.js, the names of dist/index.d.ts) is a row there, every row names an
 * export, and a row's kind says `value` for a runtime export and `type` for a type-only one. So an export
 * cannot be added, renamed or removed without docs/api.md changing in the same commit.
 *
 * Builds nothing: `npm test` builds first (its pretest); run `npm run build` before running this file alone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Declared {
  name: string;
  typeOnly: boolean;
}

/** The names a declaration file (dist/index.d.ts) exports, from its `export { ... } from` and `export type { ... } from` clauses. */
function declaredExports(file = 'dist/index.d.ts'): Declared[] {
  const text = readFileSync(join(root, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  assert.doesNotMatch(text, /export\s+\*/, `${file} uses \`export *\`, whose names this test cannot list`);
  const declared: Declared[] = [];
  for (const clause of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from\s*['"][^'"]+['"]/g)) {
    for (const raw of (clause[2] as string).split(',')) {
      let spec = raw.trim();
      if (spec === '') continue;
      let typeOnly = clause[1] !== undefined;
      if (/^type\s/.test(spec)) {
        typeOnly = true;
        spec = spec.replace(/^type\s+/, '');
      }
      const parts = spec.split(/\s+as\s+/);
      declared.push({ name: (parts[1] ?? parts[0]) as string, typeOnly });
    }
  }
  // Anything exported some other way (a local declaration, `export default`) would escape the list above.
  const other = text
    .split('\n')
    .filter((line) => /^\s*export\b/.test(line) && !/^\s*export\s+(type\s+)?\{/.test(line) && !/^\s*export\s*\{\s*\}\s*;?\s*$/.test(line));
  assert.deepEqual(other, [], `${file} exports names other than by \`export { ... } from\``);
  return declared;
}

interface Row {
  name: string;
  kind: string;
  line: number;
}

/** The heading of docs/api.md's section on the second entry point; its rows are that entry's. */
const testingHeading = '## The test kit: `messagedb/testing`';

/**
 * The rows of docs/api.md's tables whose first cell is one backticked name: those of the package's
 * main entry, or (`testing`) those under the heading of messagedb/testing, up to the next heading.
 */
function documentedRows(entry: 'main' | 'testing' = 'main'): Row[] {
  const rows: Row[] = [];
  let section: 'main' | 'testing' = 'main';
  readFileSync(join(root, 'docs/api.md'), 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.startsWith('## ')) section = line.trim() === testingHeading ? 'testing' : 'main';
      const row = /^\|\s*`([^`]+)`\s*\|([^|]*)\|/.exec(line);
      if (row !== null && section === entry) rows.push({ name: row[1] as string, kind: (row[2] as string).trim(), line: index + 1 });
    });
  return rows;
}

test('docs/api.md lists every export of the built package, with its kind, and nothing else', async () => {
  const runtime = new Set(Object.keys(await import(pathToFileURL(join(root, 'dist/index.js')).href)));
  const declared = declaredExports();
  const names = new Set(declared.map((entry) => entry.name));
  assert.equal(names.size, declared.length, 'dist/index.d.ts exports a name twice');

  // The premise: dist/index.js's runtime exports are exactly the declaration's non-type names.
  const declaredValues = declared.filter((entry) => !entry.typeOnly).map((entry) => entry.name);
  assert.deepEqual([...runtime].sort(), [...declaredValues].sort(), 'dist/index.js and dist/index.d.ts disagree on the runtime exports');

  const rows = documentedRows();
  assert.ok(rows.length > 0, 'docs/api.md has no rows');
  const documented = new Map<string, Row>();
  const twice: string[] = [];
  for (const row of rows) {
    if (documented.has(row.name)) twice.push(`docs/api.md:${row.line}: \`${row.name}\``);
    documented.set(row.name, row);
  }
  assert.deepEqual(twice, [], 'names listed more than once in docs/api.md');

  // (a) every export is a row
  const undocumented = [...names].filter((name) => !documented.has(name)).sort();
  assert.deepEqual(undocumented, [], 'exports missing from docs/api.md (add a row for each)');

  // (b) every row is an export
  const stale = rows.filter((row) => !names.has(row.name)).map((row) => `docs/api.md:${row.line}: \`${row.name}\``);
  assert.deepEqual(stale, [], 'rows in docs/api.md that name no export (renamed or removed?)');

  // (c) the kind column says value for a runtime export, type for a type-only one
  const wrongKind: string[] = [];
  for (const row of rows) {
    const expected = runtime.has(row.name) ? 'value' : 'type';
    const said = /^(value|type)\b/.exec(row.kind)?.[1];
    if (said !== expected) wrongKind.push(`docs/api.md:${row.line}: \`${row.name}\` says "${row.kind}", expected ${expected}`);
  }
  assert.deepEqual(wrongKind, [], 'kinds in docs/api.md that do not match the package');
});

test('docs/api.md lists every export of messagedb/testing under its heading, with its kind, and nothing else', async () => {
  const runtime = new Set(Object.keys(await import(pathToFileURL(join(root, 'dist/testing/index.js')).href)));
  const declared = declaredExports('dist/testing/index.d.ts');
  const names = new Set(declared.map((entry) => entry.name));
  assert.deepEqual(
    [...runtime].sort(),
    declared
      .filter((entry) => !entry.typeOnly)
      .map((entry) => entry.name)
      .sort(),
    'dist/testing/index.js and its .d.ts disagree on the runtime exports',
  );
  const rows = documentedRows('testing');
  assert.ok(rows.length > 0, `docs/api.md has no rows under ${testingHeading}`);
  assert.deepEqual([...names].filter((name) => !rows.some((row) => row.name === name)).sort(), [], 'exports of messagedb/testing missing from docs/api.md');
  assert.deepEqual(
    rows.filter((row) => !names.has(row.name)).map((row) => `docs/api.md:${row.line}: \`${row.name}\``),
    [],
    'rows under the messagedb/testing heading that name no export of it',
  );
  const wrongKind = rows.filter((row) => /^(value|type)\b/.exec(row.kind)?.[1] !== (runtime.has(row.name) ? 'value' : 'type')).map((row) => row.name);
  assert.deepEqual(wrongKind, [], 'kinds under the messagedb/testing heading that do not match the entry');
});
