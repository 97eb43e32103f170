/**
 * The reliability suite's writers: a deterministic workload (the batch a writer writes at a given
 * sequence number, its message ids included, is a pure function of the run, the writer and the
 * sequence), so a writer process killed and started again writes exactly the same messages, and
 * a write whose outcome it never heard of is recognised by its ids. Writers keep trying a batch
 * until it is acknowledged: every message they plan is written, once.
 */
import { createHash } from 'node:crypto';
import {
  isConnectionError,
  isExpectedVersionError,
  isPoolTimeoutError,
  isStatementTimeoutError,
  type MessageDbClient,
  type NewMessage,
} from '../../src/index.ts';

/** What the writers write to: `categories[i % categories.length]-i` for stream i. */
export interface Workload {
  runId: string;
  categories: readonly string[];
  streams: number;
  maxBatch: number;
}

/** The data of every workload message: who wrote it, and its sequence number in that writer's plan. */
export interface LoadData {
  writer: number;
  sequence: number;
}

/** One acknowledged write. Times are `performance.now()` of the process that wrote. */
export interface Ack {
  writer: number;
  /** The writer's sequence number of the batch's first message. */
  sequence: number;
  ids: string[];
  streamNames: string[];
  positions: number[];
  startedAt: number;
  ackedAt: number;
}

/** What a writer did besides writing. */
export interface WriterFigures {
  calls: number;
  messages: number;
  /** Expected-version conflicts with other writers, each re-read and written again. */
  conflicts: number;
  /** Calls that failed with a connection, pool or statement timeout error after the client's own retries, and were tried again. */
  retriedCalls: number;
}

function hashInt(...parts: Array<string | number>): number {
  return createHash('sha256').update(parts.join('\u0001')).digest().readUIntBE(0, 6);
}

/** A UUID that is a pure function of the run, the writer and the sequence number. */
export function messageId(runId: string, writer: number, sequence: number): string {
  const hex = createHash('sha256').update(`${runId}:${writer}:${sequence}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function workloadStreamName(workload: Workload, index: number): string {
  return `${workload.categories[index % workload.categories.length]}-${index}`;
}

/**
 * The batch writer `writer` writes at `sequence` (at most `remaining` messages): to one stream
 * when it writes with an expected version, else to streams of one category (a batch over several
 * categories takes several category locks, and two such batches can deadlock).
 */
export function planBatch(workload: Workload, writer: number, sequence: number, oneStream: boolean, remaining: number): NewMessage<LoadData>[] {
  const { runId, categories, streams } = workload;
  const size = Math.min(remaining, 1 + (hashInt(runId, writer, sequence, 'size') % workload.maxBatch));
  const category = hashInt(runId, writer, sequence, 'category') % categories.length;
  const perCategory = Math.floor(streams / categories.length);
  const stream = (salt: string | number): number => category + categories.length * (hashInt(runId, writer, sequence, salt) % perCategory);
  const single = stream('stream');
  return Array.from({ length: size }, (_, index) => ({
    id: messageId(runId, writer, sequence + index),
    streamName: workloadStreamName(workload, oneStream ? single : stream(index)),
    type: (sequence + index) % 2 === 0 ? 'Deposited' : 'Withdrawn',
    data: { writer, sequence: sequence + index },
    metadata: { correlationStreamName: `writer-${writer}` },
  }));
}

async function write(client: MessageDbClient, batch: NewMessage<LoadData>[], oneStream: boolean): Promise<number[]> {
  const [first] = batch as [NewMessage<LoadData>];
  const expectedVersion = oneStream ? await client.streamVersion(first.streamName) : undefined;
  if (batch.length === 1) return [await client.writeMessage({ ...first, expectedVersion })];
  return client.writeMessages(batch, { expectedVersion });
}

const isTransient = (error: unknown): boolean => isConnectionError(error) || isPoolTimeoutError(error) || isStatementTimeoutError(error);

export interface WriterOptions {
  writer: number;
  /** The first sequence number to write, and the end (exclusive). */
  from: number;
  to: number;
  /** Read the stream version and write with it as the expected version. */
  expectedVersion: boolean;
  /** A pause between batches (default none). */
  pauseMs?: number;
  /** Awaited before the next batch. */
  onAck(ack: Ack): void | Promise<void>;
}

/** Write the writer's plan from `from` to `to`, each batch until acknowledged. */
export async function runWriter(client: MessageDbClient, workload: Workload, options: WriterOptions): Promise<WriterFigures> {
  const figures: WriterFigures = { calls: 0, messages: 0, conflicts: 0, retriedCalls: 0 };
  for (let sequence = options.from; sequence < options.to; ) {
    const batch = planBatch(workload, options.writer, sequence, options.expectedVersion, options.to - sequence);
    const startedAt = performance.now();
    let positions: number[];
    for (;;) {
      try {
        figures.calls++;
        positions = await write(client, batch, options.expectedVersion);
        break;
      } catch (error) {
        if (isExpectedVersionError(error)) figures.conflicts++;
        else if (isTransient(error)) figures.retriedCalls++;
        else throw error;
        if (!isExpectedVersionError(error)) await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      }
    }
    await options.onAck({
      writer: options.writer,
      sequence,
      ids: batch.map((message) => message.id as string),
      streamNames: batch.map((message) => message.streamName),
      positions,
      startedAt,
      ackedAt: performance.now(),
    });
    figures.messages += batch.length;
    sequence += batch.length;
    if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
  return figures;
}
