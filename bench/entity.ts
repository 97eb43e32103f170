/**
 * Entity store rows: each against the hand-written equivalent on the same database, in interleaved
 * rounds (each round alternates slices of the two variants, and which goes first), reporting the
 * per-round ratios of ours over hand-written time (below 1 is faster). Self-contained:
 *
 *   node --import tsx bench/entity.ts --url postgres://postgres@127.0.0.1:5432/postgres [--rounds 5] [--json]
 *
 * Rows:
 * - fetch of an entity with 10,000 events: cold (no cache, no snapshot) against a loop of
 *   getStreamMessages batches folding the same projection; from a snapshot at the last version
 *   against reading that snapshot and the (empty) rest of the stream by hand; cached with nothing
 *   new against a bare getStreamMessages returning no rows (target: within 1.2x).
 * - handle throughput on one hot entity (one caller) and over 1,000 entities (8 callers), against
 *   the hand-written read-after-version, decide, write-with-expectedVersion loop with its own cache.
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { EntityStore, MessageDbClient, isExpectedVersionError, type Message } from '../src/index.ts';

interface Account {
  balance: number;
}

const projection = {
  Deposited: (account: Account, data: { amount: number }) => {
    account.balance += data.amount;
  },
};

function apply(account: Account, message: Message): void {
  if (message.type === 'Deposited') account.balance += (message.data as { amount: number }).amount;
}

function argument(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

interface Variant {
  /** Runs one slice of operations; returns how many it ran. */
  run(): Promise<number>;
}

interface Row {
  name: string;
  unit: 'ms/op' | 'ops/s';
  /** Slices of each variant per round, alternated (ABBA...), so that a change of load mid-round reaches both. */
  slices: number;
  ours: Variant;
  hand: Variant;
}

export interface RowResult {
  name: string;
  unit: string;
  ours: number;
  hand: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** One round: `slices` slices of each variant, alternating which goes first; returns ms per op of each. */
async function round(row: Row, oursFirst: boolean): Promise<{ ours: number; hand: number }> {
  const time = { ours: 0, hand: 0 };
  const ops = { ours: 0, hand: 0 };
  const slice = async (which: 'ours' | 'hand'): Promise<void> => {
    const started = performance.now();
    ops[which] += await row[which].run();
    time[which] += performance.now() - started;
  };
  for (let index = 0; index < row.slices; index++) {
    const first = (index % 2 === 0) === oursFirst ? 'ours' : 'hand';
    await slice(first);
    await slice(first === 'ours' ? 'hand' : 'ours');
  }
  return { ours: time.ours / ops.ours, hand: time.hand / ops.hand };
}

async function measure(row: Row, rounds: number): Promise<RowResult> {
  // A warm-up round of each (every entity of the spread row gets its first, cold, handle there),
  // then rounds alternating which variant goes first.
  for (let index = 0; index < row.slices; index++) await row.ours.run();
  for (let index = 0; index < row.slices; index++) await row.hand.run();
  const ours: number[] = [];
  const hand: number[] = [];
  for (let index = 0; index < rounds; index++) {
    const result = await round(row, index % 2 === 0);
    ours.push(result.ours);
    hand.push(result.hand);
  }
  const ratios = ours.map((value, index) => value / (hand[index] as number));
  const toUnit = (msPerOp: number): number => (row.unit === 'ms/op' ? msPerOp : 1000 / msPerOp);
  return {
    name: row.name,
    unit: row.unit,
    ours: toUnit(median(ours)),
    hand: toUnit(median(hand)),
    ratio: median(ratios),
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
  };
}

const repeat = async (count: number, op: () => Promise<unknown>): Promise<number> => {
  for (let index = 0; index < count; index++) await op();
  return count;
};

/** What a run measured, and where. */
export interface EntityBenchResult {
  environment: { date: string; node: string; postgres: string; rounds: number; loadAtStart: number; loadAtEnd: number };
  results: RowResult[];
}

/** Measure every row on the server at `url` (Message DB is installed if it is not), in `rounds` rounds each. */
export async function measureEntityRows(url: string, rounds: number): Promise<EntityBenchResult> {
  const client = await MessageDbClient.connect({ connectionString: url, maxPoolSize: 10 });
  await client.install();
  const category = `benchEntity${randomBytes(4).toString('hex')}`;
  const events = 10_000;
  const streamName = `${category}-big`;
  for (let start = 0; start < events; start += 1000) {
    await client.writeMessages(Array.from({ length: 1000 }, () => ({ streamName, type: 'Deposited', data: { amount: 1 } })));
  }
  const entity = (): Account => ({ balance: 0 });

  // Hand-written projection of the whole stream, a batch of 1000 at a time.
  const handCold = async (): Promise<{ account: Account; version: number }> => {
    const account = entity();
    let version = -1;
    for (;;) {
      const batch = await client.getStreamMessages(streamName, { position: version + 1, batchSize: 1000 });
      for (const message of batch) {
        apply(account, message);
        version = message.position;
      }
      if (batch.length < 1000) return { account, version };
    }
  };

  const cold = new EntityStore(client, { category, entity, projection, cache: false });
  // A snapshot at the last version, written by a store, read by one without a cache.
  await new EntityStore(client, { category, entity, projection, cache: false, snapshot: { interval: 1 } }).fetch('big');
  const fromSnapshot = new EntityStore(client, { category, entity, projection, cache: false, snapshot: { interval: events * 10 } });
  const snapshotStream = fromSnapshot.snapshotStreamName('big') as string;
  const handSnapshot = async (): Promise<void> => {
    const snapshot = await client.getLastStreamMessage<{ entityData: Account; entityVersion: number }>(snapshotStream);
    const account = { ...entity(), ...snapshot?.data.entityData };
    const version = snapshot?.data.entityVersion ?? -1;
    for (const message of await client.getStreamMessages(streamName, { position: version + 1, batchSize: 1000 })) apply(account, message);
  };
  const cached = new EntityStore(client, { category, entity, projection });
  await cached.fetch('big');

  // handle: ours against a hand-written loop with its own cache of (state, version) per entity.
  const handCache = new Map<string, { account: Account; version: number }>();
  const handHandle = async (stream: string): Promise<void> => {
    for (;;) {
      const known = handCache.get(stream) ?? { account: entity(), version: -1 };
      const account = { ...known.account };
      let version = known.version;
      for (;;) {
        const batch = await client.getStreamMessages(stream, { position: version + 1, batchSize: 1000, primary: true });
        for (const message of batch) {
          apply(account, message);
          version = message.position;
        }
        if (batch.length < 1000) break;
      }
      handCache.set(stream, { account, version });
      try {
        await client.writeMessages([{ streamName: stream, type: 'Deposited', data: { amount: 1 } }], { expectedVersion: version });
        return;
      } catch (error) {
        if (!isExpectedVersionError(error)) throw error;
      }
    }
  };
  const store = new EntityStore(client, { category: `${category}h`, entity, projection });
  const deposit = () => ({ type: 'Deposited', data: { amount: 1 } });
  const entities = 1000;
  const callers = 8;
  // A slice handles the next eighth of the entities, `callers` at a time; a round's 8 slices of
  // each variant cover every entity once.
  const sliceSize = entities / 8;
  const cursors = { ours: 0, hand: 0 };
  const spread = async (which: 'ours' | 'hand', op: (index: number) => Promise<void>): Promise<number> => {
    let next = cursors[which];
    const end = next + sliceSize;
    cursors[which] = end % entities;
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (next < end) await op(next++);
      }),
    );
    return sliceSize;
  };

  const rows: Row[] = [
    {
      name: 'fetch 10,000 events, cold',
      unit: 'ms/op',
      slices: 1,
      ours: { run: () => repeat(3, () => cold.fetch('big')) },
      hand: { run: () => repeat(3, handCold) },
    },
    {
      name: 'fetch 10,000 events, from a snapshot',
      unit: 'ms/op',
      slices: 10,
      ours: { run: () => repeat(30, () => fromSnapshot.fetch('big')) },
      hand: { run: () => repeat(30, handSnapshot) },
    },
    {
      name: 'fetch 10,000 events, cached, nothing new (vs bare getStreamMessages, no rows)',
      unit: 'ms/op',
      slices: 20,
      ours: { run: () => repeat(100, () => cached.fetch('big')) },
      hand: { run: () => repeat(100, () => client.getStreamMessages(streamName, { position: events, batchSize: 1000 })) },
    },
    {
      name: 'handle, one hot entity, 1 caller',
      unit: 'ops/s',
      slices: 10,
      ours: { run: () => repeat(30, () => store.handle('hot', deposit)) },
      hand: { run: () => repeat(30, () => handHandle(`${category}h-hothand`)) },
    },
    {
      name: `handle, ${entities} entities, ${callers} callers`,
      unit: 'ops/s',
      slices: 8,
      ours: { run: () => spread('ours', (index) => store.handle(`e${index}`, deposit).then(() => {})) },
      hand: { run: () => spread('hand', (index) => handHandle(`${category}h-hand${index}`)) },
    },
  ];

  const [serverVersion] = await client.transaction(async (tx) => (await tx.query('SHOW server_version')).map((row) => row.server_version));
  const results: RowResult[] = [];
  const loadAtStart = loadavg()[0] as number;
  for (const row of rows) results.push(await measure(row, rounds));
  const environment = {
    date: new Date().toISOString(),
    node: process.version,
    postgres: String(serverVersion),
    rounds,
    loadAtStart,
    loadAtEnd: loadavg()[0] as number,
  };
  await client.close();
  return { environment, results };
}

/** The results as a text table. */
export function formatEntityRows({ environment, results }: EntityBenchResult): string[] {
  const { postgres: serverVersion, rounds, loadAtStart } = environment;
  const title = `Entity store vs hand-written, PostgreSQL ${serverVersion}, Node ${environment.node}, ${rounds} interleaved rounds, ${environment.date}, load ${loadAtStart.toFixed(2)} -> ${environment.loadAtEnd.toFixed(2)}`;
  const format = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3));
  const header = ['row', 'unit', 'ours', 'hand-written', 'time ratio (median, min-max)'];
  const lines = results.map((result) => [
    result.name,
    result.unit,
    format(result.ours),
    format(result.hand),
    `${result.ratio.toFixed(2)}x (${result.ratioMin.toFixed(2)}-${result.ratioMax.toFixed(2)})`,
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...lines.map((line) => (line[column] as string).length)));
  return [
    title,
    ...[header, widths.map((width) => '-'.repeat(width)), ...lines].map((line) => line.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ')),
  ];
}

// Run as a script (not when imported by the bench runner).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = argument('url', process.env.MESSAGE_DB_URL);
  if (url === undefined) throw new Error('give --url postgres://... (or MESSAGE_DB_URL)');
  const result = await measureEntityRows(url, Number(argument('rounds', '5')));
  console.log(process.argv.includes('--json') ? JSON.stringify(result, null, 2) : formatEntityRows(result).join('\n'));
}
