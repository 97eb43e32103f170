/**
 * The doctor's run time over a big store: `diagnose()` on a fresh database holding `--messages`
 * messages (default 1,000,000) in 20 categories of 5,000 streams each, with five consumers whose
 * position streams hold 1,000 records each, against a bare `count(*)` of the messages table (what
 * one scan costs: the doctor must cost far less). Seeding is one `write_message` over
 * `generate_series` per chunk, on the server, so it takes about a minute per million.
 *
 * Usage: node --import tsx bench/doctor.ts --url postgres://admin@host/db [--messages N] [--rounds N] [--json]
 * (or `npm run bench -- --only doctor --url ...`). It creates `messagedb_bench_<random>` and drops it.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { median } from '../src/cli/bench/measure.ts';
import { diagnose, MessageDbClient } from '../src/index.ts';
import { currentLoad } from './environment.ts';
import { createBenchDatabase } from './server.ts';
import * as statements from '../src/doctor/statements.ts';

export interface DoctorBenchResult {
  server: string;
  messages: number;
  rounds: number;
  /** Milliseconds of each `diagnose()` call, in order. */
  doctorMs: number[];
  /** Milliseconds of each `SELECT count(*) FROM message_store.messages`, alternating with the doctor. */
  countMs: number[];
  findings: string[];
  loadAtStart: number;
  loadAtEnd: number;
}

const chunk = 100_000;

/** Write `count` messages with one statement a chunk: `write_message` over `generate_series`. */
async function seed(admin: pg.Client, count: number, log: (line: string) => void): Promise<void> {
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    await admin.query(
      `SELECT count(message_store.write_message(gen_random_uuid()::text, 'doctorBench' || (i % 20) || '-' || (i % 5000), 'Deposited',
              jsonb_build_object('amount', i), NULL, NULL)) FROM generate_series($1::bigint, $2::bigint) i`,
      [from, to],
    );
    log(`  seeded ${to.toLocaleString('en-US')} messages`);
  }
  await admin.query(
    `SELECT count(message_store.write_message(gen_random_uuid()::text, 'doctorBench' || (i % 5) || ':position-worker', 'Recorded',
            jsonb_build_object('position', i * 100), NULL, NULL)) FROM generate_series(1, 5000) i`,
  );
  await admin.query('ANALYZE message_store.messages');
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export async function runDoctorBench(url: string | undefined, messages: number, rounds: number, log: (line: string) => void): Promise<DoctorBenchResult> {
  const database = await createBenchDatabase(url);
  const loadAtStart = currentLoad();
  const admin = new pg.Client({ connectionString: database.url, options: '-c search_path=message_store,public' });
  await admin.connect();
  try {
    log(`doctor: seeding ${messages.toLocaleString('en-US')} messages into ${database.description}`);
    await seed(admin, messages, log);
    for (const [name, sql, params] of [
      ['category survey', statements.categorySurvey, [10001, 100]],
      ['record streams', statements.recordStreams, ['doctorBench0:position']],
      ['messages behind', statements.messagesBehind, ['doctorBench0', 1000, 10000, null, null]],
    ] as const) {
      const plan = await admin.query(`EXPLAIN ${sql}`, [...params]);
      const scans = plan.rows.map((row: Record<string, string>) => Object.values(row)[0]).filter((line) => /Seq Scan on messages/.test(line ?? ''));
      log(`  plan of the ${name}: ${scans.length === 0 ? 'no sequential scan of messages' : scans.join('; ')}`);
    }
    const client = await MessageDbClient.connect({ connectionString: database.url, maxPoolSize: 1, applicationName: 'messagedb-bench' });
    try {
      const findings = await diagnose(client);
      const doctorMs: number[] = [];
      const countMs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        // Alternate which goes first, so a round's drift does not always favour one.
        const doctor = (): Promise<number> => timed(() => diagnose(client));
        const count = (): Promise<number> => timed(() => client.query('SELECT count(*) FROM message_store.messages', [], { readOnly: true }));
        if (round % 2 === 0) {
          doctorMs.push(await doctor());
          countMs.push(await count());
        } else {
          countMs.push(await count());
          doctorMs.push(await doctor());
        }
        log(`  round ${round + 1}: diagnose ${doctorMs.at(-1)?.toFixed(0)} ms, count(*) ${countMs.at(-1)?.toFixed(0)} ms`);
      }
      return {
        server: database.server,
        messages,
        rounds,
        doctorMs,
        countMs,
        findings: findings.map((finding) => `${finding.severity} ${finding.code} ${finding.subject}`),
        loadAtStart,
        loadAtEnd: currentLoad(),
      };
    } finally {
      await client.close();
    }
  } finally {
    await admin.end().catch(() => {});
    await database.drop();
  }
}

/** The section's markdown for BENCHMARKS.md. */
export function doctorMarkdown(result: DoctorBenchResult): string {
  const doctor = median(result.doctorMs);
  const count = median(result.countMs);
  const range = (values: number[]): string => `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)} ms`;
  return [
    `## The doctor over ${result.messages.toLocaleString('en-US')} messages`,
    '',
    `\`diagnose()\` (\`messagedb doctor\`) on ${result.server}: ${result.messages.toLocaleString('en-US')} messages in 20 categories, ` +
      `five consumers with 1,000 position records each, analyzed; ${result.rounds} rounds alternating with a bare \`count(*)\` of the table. ` +
      `Load average ${result.loadAtStart.toFixed(1)} at the start, ${result.loadAtEnd.toFixed(1)} at the end.`,
    '',
    '| workload | median | range | doctor / count(*) | target |',
    '| --- | ---: | ---: | ---: | --- |',
    `| diagnose(), all checks | ${doctor.toFixed(0)} ms | ${range(result.doctorMs)} | ${(doctor / count).toFixed(2)}x | < 1 s ${doctor < 1000 ? 'met' : '**missed**'} |`,
    `| SELECT count(*) FROM message_store.messages (one scan) | ${count.toFixed(0)} ms | ${range(result.countMs)} | 1.00x |  |`,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, messages: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '7' }, json: { type: 'boolean' } },
  });
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const result = await runDoctorBench(values.url ?? process.env.MESSAGE_DB_BENCH_URL, Number(values.messages), Number(values.rounds), log);
  process.stdout.write(values.json === true ? `${JSON.stringify(result)}\n` : `${doctorMarkdown(result)}\n`);
}
