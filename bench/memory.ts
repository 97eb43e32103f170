/**
 * Memory of reading a large category: 1M messages through `readCategory` (and through a consumer,
 * once `Consumer` is exported), each in a fresh child process (memory-reader.ts) so nothing else
 * shares its heap. The peak RSS growth over the reader's settled footprint must stay under 64 MiB:
 * bounded by one batch, not by the stream.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { analyze } from '../src/cli/bench/bench-database.ts';
import { seedCategory } from '../src/cli/bench/seed.ts';

export interface MemoryRow {
  label: string;
  messages: number;
  peakGrowthMiB: number;
  /** The second half's peak minus the first half's: about zero when memory is bounded by a batch. */
  secondHalfGrowthMiB: number;
  retainedMiB: number;
  seconds: number;
  /** Node flags of the reader beyond the defaults; the 64 MiB target applies only to a reader without any. */
  nodeFlags: string[];
}

export const memoryCategory = 'memory';
const readerPath = fileURLToPath(new URL('./memory-reader.ts', import.meta.url));

/** Load `count` messages into category `memory` (with the single write's data and metadata), then analyze. */
export async function seedMemoryCategory(url: string, count: number): Promise<void> {
  await seedCategory(url, memoryCategory, count, 'single');
  await analyze(url);
}

export type MemoryReaderMode = 'readCategory' | 'consumer';

export interface MemoryReading {
  messages: number;
  baselineBytes: number;
  peakBytes: number;
  /** RSS peaks while reading the first and the second half of the messages. */
  firstHalfPeakBytes: number;
  secondHalfPeakBytes: number;
  /** Heap in use after the read and a full collection, over the baseline heap. */
  retainedBytes: number;
  seconds: number;
}

/** Run one reader in a child process; resolves with what it measured. */
export function measureReader(url: string, mode: MemoryReaderMode, expected: number, nodeFlags: readonly string[] = []): Promise<MemoryReading> {
  return new Promise((resolve, reject) => {
    const child = fork(readerPath, [mode, String(expected)], {
      execArgv: ['--import', 'tsx', '--expose-gc', ...nodeFlags],
      env: { ...process.env, MESSAGE_DB_BENCH_MEMORY_URL: url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let reading: MemoryReading | undefined;
    let failure: string | undefined;
    child.on('message', (message: MemoryReading | { failed: string }) => {
      if ('failed' in message) failure = message.failed;
      else reading = message;
    });
    child.on('exit', (code) => {
      if (reading !== undefined) resolve(reading);
      else reject(new Error(failure ?? `memory reader exited with ${code}`));
    });
  });
}

export async function runMemory(url: string, count: number, log: (line: string) => void): Promise<{ rows: MemoryRow[]; notes: string[] }> {
  log(`  seeding ${count.toLocaleString('en-US')} messages`);
  await seedMemoryCategory(url, count);
  const rows: MemoryRow[] = [];
  const notes: string[] = [];
  // The same readers again with V8's young generation capped (4 MiB semi-spaces instead of up to
  // 16): the difference is how much of the peak is the collector's sizing rather than the client.
  const readers = [
    ['readCategory', '`readCategory` (batchSize 1000)', []],
    ['consumer', '`Consumer` (batchSize 1000)', []],
    ['readCategory', '`readCategory`, node --max-semi-space-size=4', ['--max-semi-space-size=4']],
    ['consumer', '`Consumer`, node --max-semi-space-size=4', ['--max-semi-space-size=4']],
  ] as const;
  for (const [mode, label, nodeFlags] of readers) {
    try {
      const reading = await measureReader(url, mode, count, nodeFlags);
      const row: MemoryRow = {
        label,
        nodeFlags: [...nodeFlags],
        messages: reading.messages,
        peakGrowthMiB: Math.max(0, reading.peakBytes - reading.baselineBytes) / 2 ** 20,
        secondHalfGrowthMiB: (reading.secondHalfPeakBytes - reading.firstHalfPeakBytes) / 2 ** 20,
        retainedMiB: reading.retainedBytes / 2 ** 20,
        seconds: reading.seconds,
      };
      rows.push(row);
      log(
        `  ${mode}: ${row.messages} messages in ${row.seconds.toFixed(1)} s, peak RSS growth ${row.peakGrowthMiB.toFixed(1)} MiB, second half ${row.secondHalfGrowthMiB.toFixed(1)} MiB over the first, retained ${row.retainedMiB.toFixed(1)} MiB`,
      );
    } catch (error) {
      notes.push(`Memory through ${label}: not measured (${error instanceof Error ? error.message : String(error)}).`);
    }
  }
  return { rows, notes };
}
