/**
 * Rows read straight off the wire. node-postgres parses each DataRow into a message object with an
 * array of column strings and passes it through two event emitters before a query sees it. For a
 * statement with a decoder (every message read), the engine reads the row's columns from the
 * socket's bytes instead: the decoder calls `text()`, `integer()`, `timestamp()` in column order,
 * and integers are read from the digits without a string in between. Every other backend message
 * (and every row of a statement without a decoder) still goes to node-postgres' parser, in order,
 * whole: it never sees a message cut in two, so its own buffering stays empty.
 *
 * How it hooks in, all through public Node APIs: once a pooled connection has started,
 * node-postgres' one 'data' listener on the socket is taken off and called from this module's.
 */
import type { Socket } from 'node:net';
import { parseUtcTimestamp, toSafeInteger, type Columns } from '../vocabulary/message.js';

/** A statement that takes its rows off the wire while it runs. */
export interface WireRowReader {
  /**
   * One row; the columns are readable only during the call (the bytes are the socket's). A
   * decoder's failure is the reader's to keep: a reader that throws gets its connection closed.
   */
  readRow(columns: Columns): void;
}

/** The part of node-postgres' Connection this module uses. */
interface WireConnection {
  stream: Socket;
  [receiver]?: WireRowReader | undefined;
}

const receiver = Symbol('messagedb.wireRowReader');

/**
 * Buffer's own decoders, which `toString(encoding, start, end)` reaches after checking its
 * arguments and looking the encoding up (about 25 ns a call, five calls a message); `toString`
 * where a runtime lacks them.
 */
const sliceMethods = Buffer.prototype as unknown as { utf8Slice?: unknown; latin1Slice?: unknown };
const utf8 =
  typeof sliceMethods.utf8Slice === 'function'
    ? (bytes: Buffer, start: number, end: number): string => (bytes as unknown as { utf8Slice(start: number, end: number): string }).utf8Slice(start, end)
    : (bytes: Buffer, start: number, end: number): string => bytes.toString('utf8', start, end);
const latin1 =
  typeof sliceMethods.latin1Slice === 'function'
    ? (bytes: Buffer, start: number, end: number): string => (bytes as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice(start, end)
    : (bytes: Buffer, start: number, end: number): string => bytes.toString('latin1', start, end);

const dataRow = 0x44; // 'D'
const readyForQuery = 0x5a; // 'Z'

/**
 * Send the DataRows `connection` receives to `reader` until the statement's ReadyForQuery. Call as
 * the statement is sent; on a connection `takeOverRows` did not take, the rows keep coming through
 * node-postgres' parser instead.
 */
export function receiveRows(connection: object, reader: WireRowReader): void {
  (connection as WireConnection)[receiver] = reader;
}

/** {@link Columns} over a DataRow's bytes; `at` moves it to another row. */
class WireColumns implements Columns {
  #bytes: Buffer = Buffer.alloc(0);
  #offset = 0;

  /** The row whose first column's length is at `offset`. */
  at(bytes: Buffer, offset: number): this {
    this.#bytes = bytes;
    this.#offset = offset;
    return this;
  }

  /** The next column's [start, end), or start = -1 for NULL. */
  #next(): number {
    const length = this.#bytes.readInt32BE(this.#offset);
    this.#offset += 4;
    if (length < 0) return -1;
    const start = this.#offset;
    this.#offset += length;
    return start;
  }

  text(): string | null {
    const start = this.#next();
    return start < 0 ? null : utf8(this.#bytes, start, this.#offset);
  }

  integer(column: string): number {
    const start = this.#next();
    const end = this.#offset;
    const bytes = this.#bytes;
    // Up to 15 digits is always a safe integer: read it without a string. Anything else (NULL,
    // a sign, 16 digits or more) goes the way ArrayColumns reads it, errors included.
    if (start >= 0 && end > start && end - start <= 15) {
      let value = 0;
      let index = start;
      for (; index < end; index++) {
        const digit = (bytes[index] as number) - 48;
        if (digit < 0 || digit > 9) break;
        value = value * 10 + digit;
      }
      if (index === end) return value;
    }
    return toSafeInteger(start < 0 ? null : latin1(bytes, start, end), column);
  }

  timestamp(): Date {
    const start = this.#next();
    return parseUtcTimestamp(start < 0 ? null : latin1(this.#bytes, start, this.#offset));
  }
}

/**
 * Take the socket of a started node-postgres connection: from now on DataRows go to the statement
 * `receiveRows` named, everything else to node-postgres. Returns false, and changes nothing, when
 * the socket does not have exactly node-postgres' one 'data' listener.
 */
export function takeOverRows(connection: object): boolean {
  const wire = connection as WireConnection;
  const listeners = wire.stream.listeners('data');
  if (listeners.length !== 1) return false;
  const parse = listeners[0] as (chunk: Buffer) => void;
  wire.stream.removeListener('data', parse);
  const columns = new WireColumns();
  // The start of a message that has not arrived whole, and how many bytes it needs.
  let held: Buffer[] = [];
  let heldLength = 0;
  let needed = 0;

  wire.stream.on('data', (chunk: Buffer) => {
    let buffer = chunk;
    if (heldLength > 0) {
      held.push(chunk);
      heldLength += chunk.length;
      if (heldLength < needed) return;
      buffer = Buffer.concat(held, heldLength);
      held = [];
      heldLength = 0;
    }
    let offset = 0;
    // Messages from here on go to node-postgres, in one call, before the next row read here.
    let passFrom = 0;
    while (buffer.length - offset >= 5) {
      const end = offset + 1 + buffer.readInt32BE(offset + 1);
      if (end > buffer.length) break;
      const code = buffer[offset];
      const reader = wire[receiver];
      if (code === dataRow && reader !== undefined) {
        if (passFrom < offset) parse(buffer.subarray(passFrom, offset));
        try {
          // Type (1), length (4) and column count (2) come before the first column.
          reader.readRow(columns.at(buffer, offset + 7));
        } catch (error) {
          // A reader keeps its own failures; one that throws leaves the connection out of step, so
          // it is closed and the statement fails as on a lost connection.
          wire.stream.destroy(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        passFrom = end;
      } else if (code === readyForQuery) {
        // The statement is over. Cleared before node-postgres sees the ReadyForQuery, which may
        // send the next statement (and name its own reader) at once.
        wire[receiver] = undefined;
      }
      offset = end;
    }
    if (passFrom < offset) parse(buffer.subarray(passFrom, offset));
    if (offset < buffer.length) {
      const rest = buffer.subarray(offset);
      held = [rest];
      heldLength = rest.length;
      needed = rest.length >= 5 ? 1 + rest.readInt32BE(1) : 5;
    }
  });
  return true;
}
