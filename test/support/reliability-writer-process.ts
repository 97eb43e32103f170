/**
 * A writer in a child process, for the process-crash suite: it writes its share of the
 * deterministic workload (reliability-workload.ts) from sequence WRITER_FROM to WRITER_TO, and
 * prints `acked <sequence> <positions, comma-separated>` after each acknowledged batch (awaited until
 * the line is in the pipe, out before the next batch starts; a full pipe makes it wait, where
 * `writeSync` failed with EAGAIN), then `done`. Killed and started again from
 * the sequence after its last printed ack, it plans the same messages again, with the same ids.
 *
 * Environment: WRITER_URL, WRITER_RUN_ID, WRITER_CATEGORIES (comma-separated), WRITER_STREAMS,
 * WRITER_MAX_BATCH, WRITER_INDEX, WRITER_FROM, WRITER_TO, WRITER_EXPECTED_VERSION (1 or 0),
 * WRITER_PAUSE_MS (between batches).
 */
import { MessageDbClient } from '../../src/index.ts';
import { printLine } from './consumer-support.ts';
import { runWriter } from './reliability-workload.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const client = await MessageDbClient.connect({ connectionString: env('WRITER_URL'), maxPoolSize: 2, retry: { initialDelayMs: 20, maxDelayMs: 500 } });
await runWriter(
  client,
  {
    runId: env('WRITER_RUN_ID'),
    categories: env('WRITER_CATEGORIES').split(','),
    streams: Number(env('WRITER_STREAMS')),
    maxBatch: Number(env('WRITER_MAX_BATCH')),
  },
  {
    writer: Number(env('WRITER_INDEX')),
    from: Number(env('WRITER_FROM')),
    to: Number(env('WRITER_TO')),
    expectedVersion: env('WRITER_EXPECTED_VERSION') === '1',
    pauseMs: Number(env('WRITER_PAUSE_MS')),
    onAck: (ack) => printLine(`acked ${ack.sequence} ${ack.positions.join(',')}\n`),
  },
);
await client.close();
await printLine('done\n');
