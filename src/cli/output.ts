/**
 * Where results go: a table on a terminal, NDJSON (one JSON object a line) when piped or with
 * `--json`; `--table` forces a table on a pipe. Notes for the user go to stderr, never mixed into
 * results. Writes wait for the pipe to drain, so a large read does not pile up in memory.
 */
import type { Writable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { usageError } from './cli-error.js';
import { compactJson } from './exact-json.js';
import type { StoredMessage } from './stored-messages.js';
import { StreamingTable, formatCount, type Column } from './table.js';

/** `table` or `json` (NDJSON). */
export type Format = 'table' | 'json';

/** The format options every command with results takes. */
export interface FormatOptions {
  json?: boolean;
  table?: boolean;
}

/** The format from the options, else from whether stdout is a terminal. */
export function chooseFormat(options: FormatOptions, stdout: { isTTY?: boolean } = process.stdout): Format {
  if (options.json === true && options.table === true) throw usageError('give --json or --table, not both');
  if (options.json === true) return 'json';
  if (options.table === true) return 'table';
  return stdout.isTTY === true ? 'table' : 'json';
}

/** Results on stdout, notes on stderr. */
export class Output {
  readonly format: Format;
  readonly #stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly #stderr: Writable;

  constructor(format: Format, stdout: Writable = process.stdout, stderr: Writable = process.stderr) {
    this.format = format;
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  /** The terminal's width for a table, or undefined when stdout is not a terminal. */
  get width(): number | undefined {
    // A pseudo-terminal may report 0 columns: it has not been told its size.
    return this.#stdout.isTTY === true ? this.#stdout.columns || 100 : undefined;
  }

  /** Lines of text on stdout. */
  async lines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    if (!this.#stdout.write(`${lines.join('\n')}\n`)) {
      await new Promise<void>((resolve) => this.#stdout.once('drain', resolve));
    }
  }

  /** Objects as NDJSON lines. */
  records(values: readonly object[]): Promise<void> {
    return this.lines(values.map((value) => JSON.stringify(value)));
  }

  /** A note for the user on stderr, prefixed with the command's name. */
  note(line: string): void {
    this.#stderr.write(`messagedb: ${line}\n`);
  }
}

const messageColumns: readonly Column<StoredMessage>[] = [
  { header: 'GLOBAL', cell: (m) => formatCount(m.globalPosition), align: 'right' },
  { header: 'POSITION', cell: (m) => String(m.position), align: 'right' },
  { header: 'TIME', cell: (m) => formatTime(m.time) },
  { header: 'STREAM', cell: (m) => m.streamName },
  { header: 'TYPE', cell: (m) => m.type },
  { header: 'DATA', cell: (m) => storedJson(m.data) },
];

/** `2026-01-31 12:00:00.123` (UTC, as Message DB stores it). */
export function formatTime(time: Date): string {
  return Number.isNaN(time.getTime()) ? '' : time.toISOString().replace('T', ' ').replace('Z', '');
}

/** Stored JSON text as printed: compact, every number as stored; `null` for SQL NULL. */
export function storedJson(text: string | null): string {
  return text === null ? 'null' : compactJson(text);
}

/**
 * A message as one NDJSON line: `{ id, streamName, type, position, globalPosition, data, metadata, time }`,
 * time as ISO-8601 UTC. Data and metadata are spliced in as stored, not through JSON.parse, which
 * would round a number beyond a double's precision.
 */
export function messageLine(message: StoredMessage): string {
  const head = JSON.stringify({
    id: message.id,
    streamName: message.streamName,
    type: message.type,
    position: message.position,
    globalPosition: message.globalPosition,
  });
  return `${head.slice(0, -1)},"data":${storedJson(message.data)},"metadata":${storedJson(message.metadata)},"time":${JSON.stringify(message.time.toISOString())}}`;
}

/** Prints messages as they arrive, in the output's format. */
export class MessagePrinter {
  readonly #output: Output;
  readonly #table: StreamingTable<StoredMessage> | undefined;
  count = 0;

  constructor(output: Output) {
    this.#output = output;
    this.#table = output.format === 'table' ? new StreamingTable(messageColumns, output.width) : undefined;
  }

  async print(messages: readonly StoredMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.count += messages.length;
    if (this.#table === undefined) await this.#output.lines(messages.map(messageLine));
    else await this.#output.lines(this.#table.render(messages));
    // PGlite answers through promises alone; a turn of the event loop lets Ctrl-C through.
    await setImmediate();
  }
}
