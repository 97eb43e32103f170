/**
 * Helpers for consumer tests: writing many messages over many streams, and waiting on events
 * ("handled through global position N") instead of sleeping.
 */
import type { Message, MessageDbClient, NewMessage } from '../../src/index.ts';

/** Data of the messages `writeSpread` writes: each stream's own sequence number. */
export interface SpreadData {
  sequence: number;
}

/**
 * Write `count` messages round robin over `streams` streams of `category` (`category-0` ...), in
 * batches of up to 1000 per round trip. Types alternate `Deposited` / `Withdrawn`. Streams are
 * numbered from `firstStream` (default 0). Returns the category head after the writes.
 */
export async function writeSpread(
  client: MessageDbClient,
  category: string,
  count: number,
  streams: number,
  options: { firstStream?: number } = {},
): Promise<number> {
  const firstStream = options.firstStream ?? 0;
  const batchSize = 1000;
  for (let start = 0; start < count; start += batchSize) {
    const batch: NewMessage<SpreadData>[] = [];
    for (let index = start; index < Math.min(count, start + batchSize); index++) {
      batch.push({
        streamName: `${category}-${firstStream + (index % streams)}`,
        type: index % 2 === 0 ? 'Deposited' : 'Withdrawn',
        data: { sequence: Math.floor(index / streams) },
      });
    }
    await client.writeMessages(batch);
  }
  return client.categoryHead(category);
}

/** Collects what a consumer handled, and resolves waits when a condition over it becomes true. */
export class Handled<Data = unknown> {
  readonly messages: Message<Data>[] = [];
  readonly #waits: Array<{ done: () => boolean; resolve: () => void }> = [];

  /** Note a handled message and wake the waits it satisfies. */
  add(message: Message<Data>): void {
    this.messages.push(message);
    this.check();
  }

  /** Re-test the waits (after a change not made through `add`). */
  check(): void {
    for (const wait of [...this.#waits]) {
      if (!wait.done()) continue;
      this.#waits.splice(this.#waits.indexOf(wait), 1);
      wait.resolve();
    }
  }

  /** Resolves once `done()` is true; rejects after `timeoutMs` naming `what`, so a failing test fails fast. */
  until(done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waits.splice(this.#waits.indexOf(wait), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting until ${what} (handled ${this.messages.length})`));
      }, timeoutMs);
      const wait = {
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waits.push(wait);
    });
  }

  /** Resolves once a message at or past `globalPosition` was handled. */
  through(globalPosition: number, timeoutMs?: number): Promise<void> {
    return this.until(
      () => this.messages.some((message) => message.globalPosition >= globalPosition),
      `handled through global position ${globalPosition}`,
      timeoutMs,
    );
  }

  /** Resolves once `count` messages were handled. */
  count(count: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.messages.length >= count, `${count} messages handled`, timeoutMs);
  }

  get globalPositions(): number[] {
    return this.messages.map((message) => message.globalPosition);
  }
}

/** Each stream's handled sequence numbers, in handling order. */
export function sequencesByStream(messages: readonly Message<SpreadData>[]): Map<string, number[]> {
  const byStream = new Map<string, number[]>();
  for (const message of messages) {
    const sequences = byStream.get(message.streamName) ?? [];
    sequences.push(message.data.sequence);
    byStream.set(message.streamName, sequences);
  }
  return byStream;
}

/** The global positions of a position stream's `Recorded` messages, oldest first. */
export async function recordedPositions(client: MessageDbClient, positionStreamName: string): Promise<number[]> {
  const records = await client.getStreamMessages<{ position: number }>(positionStreamName, { batchSize: -1 });
  return records.map((record) => record.data.position);
}

/**
 * Resolves once `check()` is true, testing it every 10 ms; for state only the database shows (a
 * recorded position), where there is no event to wait on. Rejects after `timeoutMs`.
 */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * For a child process: write `line` to stdout and resolve once it is out of this process (in the
 * pipe), so a SIGKILL after that cannot lose it. A full pipe makes it wait for the reader;
 * `writeSync(1, ...)` fails with EAGAIN there instead (the pipe is non-blocking under tsx), which
 * made a busy parent break its child. `onQueued` runs when the pipe could not take the line at once.
 */
export function printLine(line: string, onQueued?: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(line, (error) => (error ? reject(error) : resolve()));
    if (process.stdout.writableLength > 0) onQueued?.();
  });
}
