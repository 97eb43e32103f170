/**
 * The messages every workload writes and the data every read workload reads, shaped like the
 * pgbench anchor scripts so the client, the peers and pgbench do the same work.
 */
import type { NewMessage } from '../../vocabulary/message.js';

/** The anchors pick a random stream id in 1..100000. */
export function randomId(): number {
  return 1 + Math.floor(Math.random() * 100_000);
}

/** `w_distinct`: one Deposited event to `account-<random>`, with a correlation stream. */
export const singleData = { amount: 100, currency: 'USD' };
export const singleMetadata = { correlationStreamName: 'x-1' };
export function singleMessage(): NewMessage {
  return { streamName: `account-${randomId()}`, type: 'Deposited', data: singleData, metadata: singleMetadata };
}

/** `w_pipe100`: `size` Deposited events, one per stream `pipe-<random>-<i>` of category `pipe`. */
export const batchData = { amount: 100 };
export function batchMessages(size: number): NewMessage[] {
  const id = randomId();
  return Array.from({ length: size }, (_, index) => ({ streamName: `pipe-${id}-${index + 1}`, type: 'Deposited', data: batchData }));
}

/** `w_txn100`: the stream `batch-<random>`, written to `size` times in one transaction. */
export function transactionStream(): string {
  return `batch-${randomId()}`;
}

/** What the read anchors read: `r_stream_full` reads this stream, `r_cat_full` this category, 1000 at a time. */
export const readStreamName = 'bench-1';
export const readCategory = 'batch';
export const readBatchSize = 1000;
