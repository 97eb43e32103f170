/**
 * The toolkit's rows for BENCHMARKS.md: the entity store (bench/entity.ts) and typed messages
 * (bench/typed-messages.ts), each against its hand-written or untyped equivalent on the same
 * database in interleaved rounds. Each runs as a child process with `--json`; this turns what they
 * measured into the report's markdown.
 */
import { spawn } from 'node:child_process';
import type { RowResult as EntityRow } from './entity.ts';
import { formatRate as formatCount } from './report.ts';

interface TypedRow {
  name: string;
  labels: [string, string];
  unit: string;
  a: number;
  b: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

/** Run `script` with `--json` against `url`; its progress goes to `log`. */
async function runJson<T>(script: string, url: string, rounds: number, log: (line: string) => void): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname, '--url', url, '--rounds', String(rounds), '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line !== '') log(`  ${line}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return JSON.parse(output.slice(output.indexOf('{'))) as T;
}

const number = (value: number, unit: string): string => (unit === 'ms/op' ? `${value.toFixed(value >= 10 ? 0 : 2)} ms` : `${formatCount(value)}/s`);

/** Both toolkit benches on the database at `url`, as markdown. */
export async function runToolkitBench(url: string, rounds: number, log: (line: string) => void): Promise<string> {
  log('toolkit: the entity store against hand-written fetches and commands');
  const entity = await runJson<{ results: EntityRow[] }>('./entity.ts', url, rounds, log);
  log('toolkit: typed messages against untyped ones');
  const typed = await runJson<{ results: TypedRow[] }>('./typed-messages.ts', url, rounds, log);
  return [
    '## The toolkit: entity store and typed messages',
    '',
    `Each row against its equivalent written by hand (or untyped) on the same database, in ${rounds} interleaved rounds; ratios are medians of the per-round ratios.`,
    '',
    '| entity store | this client | hand-written | time ratio (ours / hand-written; lower is faster) | range | target |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...entity.results.map((row) => {
      const target = row.name.includes('cached') ? '<= 1.2x' : '';
      return `| ${row.name} | ${number(row.ours, row.unit)} | ${number(row.hand, row.unit)} | ${row.ratio.toFixed(2)}x | ${row.ratioMin.toFixed(2)}-${row.ratioMax.toFixed(2)} | ${target} |`;
    }),
    '',
    '| typed messages | A | B | A | B | A / B | range | target |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...typed.results.map((row) => {
      const target = row.name.includes('consumer') && !row.labels[0].includes('filter') ? '>= 0.8x' : '';
      return `| ${row.name} | ${row.labels[0]} | ${row.labels[1]} | ${formatCount(row.a)} ${row.unit} | ${formatCount(row.b)} ${row.unit} | ${row.ratio.toFixed(2)}x | ${row.ratioMin.toFixed(2)}-${row.ratioMax.toFixed(2)} | ${target} |`;
    }),
    '',
  ].join('\n');
}
