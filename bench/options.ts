/**
 * Command-line options of `npm run bench`. `--rounds` and `--seconds` trade time for steadier
 * medians (bench/notes.md says how long a run takes).
 */
import { parseArgs } from 'node:util';

export type Section =
  | 'core'
  | 'peers'
  | 'scaling'
  | 'consumer'
  | 'memory'
  | 'toolkit'
  | 'test-kit'
  | 'replicas'
  | 'console'
  | 'elastic'
  | 'dead-letters'
  | 'doctor'
  | 'tuning';
export const sections: readonly Section[] = [
  'core',
  'peers',
  'scaling',
  'consumer',
  'memory',
  'toolkit',
  'test-kit',
  'replicas',
  'console',
  'elastic',
  'dead-letters',
  'doctor',
  'tuning',
];
/**
 * What a plain `npm run bench` runs; memory (a million-message load) is `npm run bench:memory` or `--only ...,memory`, and
 * console (seeding a million messages first) `--only console`; so are doctor (a million messages too) and tuning (docs/tuning.md's figures).
 */
export const defaultSections: readonly Section[] = ['core', 'peers', 'scaling', 'consumer', 'toolkit', 'test-kit', 'replicas', 'elastic', 'dead-letters'];

export interface BenchOptions {
  /** An admin URL of a server to create the bench database on; else an embedded server is started. */
  url: string | undefined;
  rounds: number;
  /** Seconds per workload per round; fractions are fine (pgbench's shorter turns are -t runs sized from its last rate). */
  seconds: number;
  only: Section[];
  /** Where the markdown report goes (`-` prints it only). */
  out: string;
  /** Where the SVG charts go. */
  chartsDir: string;
  /** How many messages the memory section reads. */
  memoryMessages: number;
}

const usage = `usage: npm run bench -- [--url postgres://...] [--rounds N] [--seconds S] [--only core,peers,scaling,consumer,memory,toolkit,test-kit,replicas,console,elastic,dead-letters,doctor,tuning] [--memory-messages N] [--out FILE|-]`;

export function parseOptions(argv: readonly string[], env = process.env): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      url: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '2' },
      only: { type: 'string' },
      out: { type: 'string', default: 'BENCHMARKS.md' },
      charts: { type: 'string', default: 'docs/charts' },
      'memory-messages': { type: 'string', default: '1000000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer (got ${values.rounds})\n${usage}`);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--seconds must be a positive number (got ${values.seconds})\n${usage}`);
  if (!Number.isInteger(Number(values['memory-messages'])) || Number(values['memory-messages']) < 1000) {
    throw new Error(`--memory-messages must be an integer of at least 1000 (got ${values['memory-messages']})\n${usage}`);
  }
  const only = values.only === undefined ? [...defaultSections] : values.only.split(',').map((name) => name.trim());
  for (const name of only) {
    if (!sections.includes(name as Section)) throw new Error(`--only takes ${sections.join(', ')} (got ${name})\n${usage}`);
  }
  return {
    url: values.url ?? env.MESSAGE_DB_BENCH_URL,
    rounds,
    seconds,
    only: only as Section[],
    out: values.out,
    chartsDir: values.charts,
    memoryMessages: Number(values['memory-messages']),
  };
}
