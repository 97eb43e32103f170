/**
 * Child process of memory.ts: reads the whole `memory` category once, through `readCategory` or
 * through a `Consumer`, and reports its RSS before and at its peak. The baseline is taken after
 * one batch was read and the heap collected, so it holds the client, the driver and the code,
 * and the growth is what reading the stream adds.
 */
import { Consumer, MessageDbClient } from '../src/index.ts';
import { countdown, seededType } from '../src/cli/bench/seed.ts';
import { memoryCategory, type MemoryReaderMode, type MemoryReading } from './memory.ts';

const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

/** Read every message; `onMessage` sees the running count. */
async function readAll(client: MessageDbClient, mode: MemoryReaderMode, expected: number, onMessage: (count: number) => void): Promise<number> {
  let count = 0;
  if (mode === 'readCategory') {
    for await (const message of client.readCategory(memoryCategory, { batchSize: 1000 })) {
      if (message.globalPosition > 0) onMessage(++count);
    }
    return count;
  }
  const { tick, finished } = countdown(expected);
  const consumer = new Consumer(client, { category: memoryCategory, identifier: `memory${process.pid}`, batchSize: 1000 });
  consumer.on(seededType, () => {
    onMessage(++count);
    tick();
  });
  const running = consumer.start();
  await Promise.race([finished, running]);
  await consumer.stop();
  await running;
  return count;
}

const [mode, expectedText] = process.argv.slice(2) as [MemoryReaderMode, string];
try {
  const client = await MessageDbClient.connect({ connectionString: process.env.MESSAGE_DB_BENCH_MEMORY_URL, maxPoolSize: 2 });
  await client.getCategoryMessages(memoryCategory, { batchSize: 1000 });
  collect();
  const baselineBytes = process.memoryUsage.rss();
  const baselineHeap = process.memoryUsage().heapUsed;
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  const expected = Number(expectedText);
  // Peaks of the first and the second half of the read: equal when memory does not grow with the stream.
  const halves = [baselineBytes, baselineBytes];
  let half = 0;
  const sample = (): void => {
    halves[half] = Math.max(halves[half] as number, process.memoryUsage.rss());
  };
  const sampler = setInterval(sample, 2);
  const started = performance.now();
  const messages = await readAll(client, mode, expected, (count) => {
    if (count === Math.floor(expected / 2)) {
      sample();
      half = 1;
    }
  });
  sample();
  const sampledPeak = Math.max(...halves);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  // maxRSS is the kernel's high-water mark for the whole process; it only counts when reading raised it.
  const maxRssAfter = process.resourceUsage().maxRSS * 1024;
  const peakBytes = Math.max(sampledPeak, maxRssAfter > maxRssBefore ? maxRssAfter : 0, process.memoryUsage.rss());
  // What the read left behind once garbage is collected: the proof that memory is bounded by a
  // batch and not by the stream, whatever V8's collector let the heap grow to meanwhile.
  collect();
  const retainedBytes = process.memoryUsage().heapUsed - baselineHeap;
  await client.close();
  const [firstHalfPeakBytes, secondHalfPeakBytes] = halves as [number, number];
  process.send?.({ messages, baselineBytes, peakBytes, firstHalfPeakBytes, secondHalfPeakBytes, retainedBytes, seconds } satisfies MemoryReading);
} catch (error) {
  process.send?.({ failed: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
}
