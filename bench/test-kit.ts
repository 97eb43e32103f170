/**
 * The test kit's store creation time: `createTestClient()` (a copy of a dumped template with Message
 * DB installed) against its hand-written equivalent, a new embedded database with Message DB
 * installed (`MessageDbClient.embedded()`), in one process, alternating, one of each per round after
 * one untimed of each. Both are PGlite in this process: no server is involved. Reports the median and
 * p95 of each, and the ratio (kit / hand-written) per round. Target: a median under 500 ms.
 *
 * Usage: node --import tsx bench/test-kit.ts [--rounds N] [--json]   (markdown on stdout, progress on stderr)
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { MessageDbClient } from '../src/index.ts';
import { createTestClient } from '../src/testing/index.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);
if (!Number.isSafeInteger(rounds) || rounds < 3) throw new Error(`--rounds must be an integer of at least 3 (got ${values.rounds})`);

/** Milliseconds from the call to an open client; the client is closed outside the measure. */
async function timed(open: () => Promise<MessageDbClient>): Promise<number> {
  const started = performance.now();
  const client = await open();
  const ms = performance.now() - started;
  await client.close();
  return ms;
}

function quantile(sorted: readonly number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

const kit = (): Promise<MessageDbClient> => createTestClient();
const handWritten = (): Promise<MessageDbClient> => MessageDbClient.embedded();

const loadAtStart = loadavg()[0] as number;
const first = await timed(kit);
process.stderr.write(`test kit: first createTestClient() (installs and dumps the template) ${first.toFixed(0)} ms\n`);
await timed(handWritten);
const kitTimes: number[] = [];
const handTimes: number[] = [];
const ratios: number[] = [];
for (let round = 0; round < rounds; round++) {
  // Alternate which goes first, so neither always runs on a warmer process.
  let a: number;
  let b: number;
  if (round % 2 === 0) {
    a = await timed(kit);
    b = await timed(handWritten);
  } else {
    b = await timed(handWritten);
    a = await timed(kit);
  }
  kitTimes.push(a);
  handTimes.push(b);
  ratios.push(a / b);
  process.stderr.write(`  round ${round + 1}: createTestClient ${a.toFixed(0)} ms, embedded() + install ${b.toFixed(0)} ms\n`);
}
const sortedKit = [...kitTimes].sort((x, y) => x - y);
const sortedHand = [...handTimes].sort((x, y) => x - y);
const sortedRatios = [...ratios].sort((x, y) => x - y);
const result = {
  rounds,
  firstMs: first,
  kit: { medianMs: quantile(sortedKit, 0.5), p95Ms: quantile(sortedKit, 0.95) },
  handWritten: { medianMs: quantile(sortedHand, 0.5), p95Ms: quantile(sortedHand, 0.95) },
  ratio: quantile(sortedRatios, 0.5),
  ratioMin: sortedRatios[0] as number,
  ratioMax: sortedRatios[sortedRatios.length - 1] as number,
  loadAverage: [loadAtStart, loadavg()[0] as number],
  node: process.version,
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const ms = (value: number): string => `${value.toFixed(0)} ms`;
  const met = result.kit.medianMs < 500 ? 'met' : 'missed';
  process.stdout.write(
    [
      '## The test kit: store creation',
      '',
      `\`createTestClient()\` (messagedb/testing: a copy of a dumped template with Message DB installed) against a new embedded database with Message DB installed (\`MessageDbClient.embedded()\`, what a test would write by hand); PGlite in this process (no server), Node ${result.node}, ${rounds} alternating rounds after one untimed of each, load average ${result.loadAverage.map((load) => load.toFixed(1)).join(' -> ')}. The first \`createTestClient()\` of a process, which installs Message DB in the template and dumps it, took ${ms(first)}.`,
      '',
      '| store creation | median | p95 | target |',
      '| --- | ---: | ---: | --- |',
      `| \`createTestClient()\` | ${ms(result.kit.medianMs)} | ${ms(result.kit.p95Ms)} | median < 500 ms (${met}) |`,
      `| \`embedded()\` + install (hand-written) | ${ms(result.handWritten.medianMs)} | ${ms(result.handWritten.p95Ms)} | |`,
      `| ratio (kit / hand-written; lower is faster), median of rounds | ${result.ratio.toFixed(2)}x | range ${result.ratioMin.toFixed(2)}-${result.ratioMax.toFixed(2)} | |`,
      '',
    ].join('\n'),
  );
}
