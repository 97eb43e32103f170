/**
 * `messagedb write --file`: every line of an NDJSON file is a message, written in batches. Each
 * batch is atomic (one `writeMessages` call: one round trip, one implicit transaction), and the next
 * batch is read and checked while the previous one is being written. Batches go one at a time, in
 * file order, so messages of a stream keep their order across batches. A bad line stops the write
 * before its batch is sent; batches already written stay written, and the error says how many.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setImmediate } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { MessageDbClient } from '../store/client.js';
import { isInvalidArgumentError } from '../vocabulary/errors.js';
import type { NewMessage } from '../vocabulary/message.js';
import { CliError, toCliError, usageError } from './cli-error.js';
import { checkNumbersExact } from './exact-json.js';
import type { Output } from './output.js';
import { ProgressBar } from './progress.js';
import { countOf, formatCount } from './table.js';

const messageKeys = new Set(['streamName', 'type', 'data', 'metadata', 'id']);

/** A line's message, or a usage error naming the file and line (numbers are kept exact or refused). */
function parseLine(text: string, where: string): NewMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`${where}: not valid JSON: ${(error as Error).message}`);
  }
  value = checkNumbersExact(where, text, value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError(`${where}: must be a JSON object`);
  const unknown = Object.keys(value).filter((key) => !messageKeys.has(key));
  if (unknown.length > 0) {
    throw usageError(`${where}: unknown key ${unknown.map((key) => JSON.stringify(key)).join(', ')} (a line has streamName, type, data, metadata, id)`);
  }
  return value as NewMessage;
}

interface Batch {
  messages: NewMessage[];
  lines: number[];
  /** Bytes of the file up to the end of the batch's last line, for the progress bar. */
  endsAtByte: number;
}

interface Input {
  input: Readable;
  name: string;
  /** The file's size in bytes, unknown for stdin. */
  size: number | undefined;
}

async function openInput(file: string): Promise<Input> {
  if (file === '-') return { input: process.stdin, name: 'stdin', size: undefined };
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw usageError(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  if (!info.isFile()) throw usageError(`cannot read ${file}: not a file`);
  return { input: createReadStream(file), name: file, size: info.size };
}

/** Write every message of `file` (or stdin for `-`); prints a summary. */
export async function writeFile(client: MessageDbClient, file: string, batchSize: number, output: Output, signal: AbortSignal): Promise<void> {
  const { input, name, size } = await openInput(file);
  const progress = new ProgressBar(`Writing ${name}`);
  const startedAt = performance.now();
  let written = 0;
  let batches = 0;
  const sendErrors = new WeakSet<Error>();

  const send = async (batch: Batch): Promise<void> => {
    try {
      await client.writeMessages(batch.messages, { signal });
    } catch (error) {
      // The library names the message by its index in the batch; the user knows it by its line.
      const index = isInvalidArgumentError(error) ? /^messages\[(\d+)\]/.exec(error.argument)?.[1] : undefined;
      const line = index === undefined ? undefined : batch.lines[Number(index)];
      const reason = toCliError(error);
      const prefix = line === undefined ? '' : `${name}:${line}: `;
      const failure = new CliError(`${prefix}${reason.message} (${formatCount(written)} messages written before this batch)`, reason.exitCode);
      sendErrors.add(failure);
      throw failure;
    }
    written += batch.messages.length;
    batches++;
    progress.update(written, size === undefined || size === 0 ? undefined : batch.endsAtByte / size);
    // PGlite answers through promises alone; a turn of the event loop lets Ctrl-C and the progress bar through.
    await setImmediate();
  };

  let inFlight: Promise<void> = Promise.resolve();
  let batch: Batch = { messages: [], lines: [], endsAtByte: 0 };
  let lineNumber = 0;
  let bytes = 0;
  try {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      lineNumber++;
      bytes += Buffer.byteLength(text) + 1;
      batch.endsAtByte = bytes;
      if (text.trim() === '') continue;
      batch.messages.push(parseLine(text, `${name}:${lineNumber}`));
      batch.lines.push(lineNumber);
      if (batch.messages.length === batchSize) {
        await inFlight;
        inFlight = send(batch);
        // Rejections are awaited (and thrown) before the next batch or at the end.
        inFlight.catch(() => {});
        batch = { messages: [], lines: [], endsAtByte: bytes };
      }
    }
    await inFlight;
    if (batch.messages.length > 0) await send(batch);
  } catch (error) {
    await inFlight.catch(() => {});
    if (error instanceof CliError && written > 0 && !sendErrors.has(error)) {
      throw new CliError(`${error.message} (${formatCount(written)} messages were written)`, error.exitCode);
    }
    throw error;
  } finally {
    progress.finish();
    if (input !== process.stdin) input.destroy();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const rate = seconds > 0 ? Math.round(written / seconds) : 0;
  if (output.format === 'json') {
    await output.records([{ written, batches, seconds: Number(seconds.toFixed(3)), messagesPerSecond: rate }]);
  } else {
    await output.lines([
      `Wrote ${countOf(written, 'message')} in ${countOf(batches, 'batch', 'batches')} in ${seconds.toFixed(2)} s (${formatCount(rate)} msg/s)`,
    ]);
  }
}
