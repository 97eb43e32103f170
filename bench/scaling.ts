/**
 * Scaling curves: single-write throughput of 32 concurrent callers against the client's pool size
 * (1..32), writing to 1, 4 or 16 categories. Writers to one category serialise on its advisory
 * lock (write_message's acquire_lock), so more connections can only help across categories; the
 * curves check the usual pool-size advice (about twice the cores) against that. pgbench's
 * w_distinct with as many connections as the pool gives the server's curve for one category.
 */
import { randomId } from '../src/cli/bench/fixtures.ts';
import { MessageDbClient } from '../src/index.ts';
import { closedLoop, median, rate } from '../src/cli/bench/measure.ts';
import type { BenchOptions } from './options.ts';
import { anchorScripts, Pgbench, pgbenchVersion } from '../src/cli/bench/pgbench.ts';
import type { Chart, ChartSeries } from './svg-chart.ts';

export const poolSizes = [1, 2, 4, 8, 16, 32];
export const categoryCounts = [1, 4, 16];
const callers = 32;

export interface ScalingResult {
  description: string;
  poolSizes: number[];
  series: ChartSeries[];
  charts: Chart[];
}

async function clientRate(url: string, poolSize: number, categories: number, seconds: number, rounds: number): Promise<number> {
  const client = await MessageDbClient.connect({ connectionString: url, maxPoolSize: poolSize, applicationName: 'messagedb-bench' });
  try {
    const write = async (): Promise<number> => {
      const category = `scale${Math.floor(Math.random() * categories)}`;
      await client.writeMessage({ streamName: `${category}-${randomId()}`, type: 'Deposited', data: { amount: 100 } });
      return 1;
    };
    await closedLoop(200, write, callers);
    const rates: number[] = [];
    for (let round = 0; round < rounds; round++) rates.push(rate(await closedLoop(seconds * 1000, write, callers)));
    return median(rates);
  } finally {
    await client.close();
  }
}

export async function runScaling(url: string, options: BenchOptions, log: (line: string) => void): Promise<ScalingResult> {
  // One second a point keeps the section short; --rounds 5 or more takes two runs a point.
  const seconds = 1;
  const rounds = options.rounds >= 5 ? 2 : 1;
  const series: ChartSeries[] = categoryCounts.map((count) => ({ label: `${count} ${count === 1 ? 'category' : 'categories'}`, values: [] }));
  const pgbench = (await pgbenchVersion()) === undefined ? undefined : new Pgbench(url);
  const anchor: ChartSeries = { label: 'pgbench, 1 category', values: [], reference: true };
  try {
    for (const poolSize of poolSizes) {
      for (const [index, categories] of categoryCounts.entries()) {
        const value = await clientRate(url, poolSize, categories, seconds, rounds);
        series[index]?.values.push(value);
        log(
          `  pool ${String(poolSize).padStart(2)} categories ${String(categories).padStart(2)} ${Math.round(value).toLocaleString('en-US').padStart(8)} msg/s`,
        );
      }
      if (pgbench !== undefined) {
        const value = await pgbench.rate(anchorScripts.w_distinct, seconds, poolSize);
        anchor.values.push(value);
        log(`  pgbench -c ${String(poolSize).padStart(2)}            ${Math.round(value).toLocaleString('en-US').padStart(8)} msg/s`);
      }
    }
  } finally {
    pgbench?.close();
  }
  const all = pgbench === undefined ? series : [...series, anchor];
  return {
    description:
      `Single writes by ${callers} concurrent callers through one client, against its \`maxPoolSize\`, spread over 1, 4 or 16 categories; ` +
      `pgbench runs w_distinct (one category) on as many connections as the pool. ${rounds === 1 ? `One ${seconds} s run` : `The median of ${rounds} runs of ${seconds} s`} per point.`,
    poolSizes,
    series: all,
    charts: [
      {
        name: 'scaling-pool-size',
        title: `Single writes, ${callers} concurrent callers, by pool size`,
        xLabel: 'pool size (connections)',
        yLabel: 'messages per second',
        xTicks: poolSizes.map(String),
        series: all,
      },
    ],
  };
}
