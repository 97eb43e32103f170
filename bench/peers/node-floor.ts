/**
 * Node's floor for a single write: what any Node client pays per round trip, without a driver.
 * A pg.Client opens the connection (startup, authentication, `search_path`) and is then set aside:
 * its socket is read directly, `write_message` is parsed once as a prepared statement, and each
 * write is one Bind / Execute / Sync written by hand, awaited until the server's ReadyForQuery.
 * Nothing is decoded but the message types. Same statement, same data and metadata as the client's
 * `client.single-write`, so the gap between this row and pgbench's `w_distinct` is what Node itself
 * (the event loop, libuv, the kernel calls it makes) costs, and the gap between this row and the
 * client is what node-postgres and the client add on top.
 *
 * This is measuring code for BENCHMARKS.md, not a driver: it has no error recovery, no types, no
 * cancellation.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import pg from 'pg';
import * as fixtures from '../../src/cli/bench/fixtures.ts';
import { loopWorkload } from '../../src/cli/bench/client-workloads.ts';
import type { PeerConnection } from './peer.ts';

const statementName = 'floor_write_message';
const writeSql = 'SELECT message_store.write_message($1::varchar, $2::varchar, $3::varchar, $4::text::jsonb, $5::text::jsonb, $6::bigint)';

/** A frontend message: type byte, length (itself included), body. */
function frame(type: string, body: Buffer): Buffer {
  const message = Buffer.allocUnsafe(5 + body.length);
  message.write(type, 0, 'latin1');
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

const cString = (text: string): Buffer => Buffer.from(`${text}\0`, 'utf8');
const int16 = (value: number): Buffer => {
  const buffer = Buffer.allocUnsafe(2);
  buffer.writeInt16BE(value);
  return buffer;
};
const int32 = (value: number): Buffer => {
  const buffer = Buffer.allocUnsafe(4);
  buffer.writeInt32BE(value);
  return buffer;
};

/** Bind the unnamed portal to the prepared statement with text parameters (null as length -1). */
function bind(values: readonly (string | null)[]): Buffer {
  const parts: Buffer[] = [cString(''), cString(statementName), int16(0), int16(values.length)];
  for (const value of values) {
    if (value === null) {
      parts.push(int32(-1));
    } else {
      const bytes = Buffer.from(value, 'utf8');
      parts.push(int32(bytes.length), bytes);
    }
  }
  parts.push(int16(0));
  return frame('B', Buffer.concat(parts));
}

const executeAndSync = Buffer.concat([frame('E', Buffer.concat([cString(''), int32(0)])), frame('S', Buffer.alloc(0))]);

/** Reads backend messages off the socket; each round trip ends at ReadyForQuery ('Z'). */
class RoundTrips {
  #pending: Buffer = Buffer.alloc(0);
  #waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #error: string | undefined;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
  }

  /** Send `request` and resolve at the server's ReadyForQuery (reject if an ErrorResponse came first). */
  send(socket: Socket, request: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      socket.write(request);
    });
  }

  #receive(chunk: Buffer): void {
    let buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (buffer.length >= 5) {
      const length = buffer.readInt32BE(1);
      if (buffer.length < length + 1) break;
      const type = String.fromCharCode(buffer[0] as number);
      if (type === 'E')
        this.#error = buffer
          .subarray(5, length + 1)
          .toString('utf8')
          .replaceAll('\0', ' ')
          .trim();
      if (type === 'Z') {
        const waiting = this.#waiting;
        const error = this.#error;
        this.#waiting = undefined;
        this.#error = undefined;
        if (error === undefined) waiting?.resolve();
        else waiting?.reject(new Error(`node floor: ${error}`));
      }
      buffer = buffer.subarray(length + 1);
    }
    this.#pending = buffer;
  }
}

export async function openNodeFloor(url: string): Promise<PeerConnection> {
  const client = new pg.Client({ connectionString: url, options: '-c search_path=message_store,public' });
  await client.connect();
  // From here on the socket is this module's: node-postgres no longer reads it.
  const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
  socket.removeAllListeners('data');
  const trips = new RoundTrips(socket);
  await trips.send(socket, Buffer.concat([frame('P', Buffer.concat([cString(statementName), cString(writeSql), int16(0)])), frame('S', Buffer.alloc(0))]));
  return {
    workloads: [
      loopWorkload('floor.single-write', async () => {
        const { streamName, type, data, metadata } = fixtures.singleMessage();
        const values = [randomUUID(), streamName, type, JSON.stringify(data), metadata === undefined ? null : JSON.stringify(metadata), null];
        await trips.send(socket, Buffer.concat([bind(values), executeAndSync]));
        return 1;
      }),
    ],
    // node-postgres still owns the connection's end: it sends Terminate and waits for the close.
    close: () => client.end(),
  };
}
