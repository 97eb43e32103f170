/**
 * The postgres engine's wire reader (src/engine/wire-rows.ts) on a real socket-like stream: backend
 * messages cut into chunks at every possible place. The rows a statement receives must decode to
 * exactly what node-postgres' column text decodes to, and every other message must reach the
 * listener it replaced whole, in order, byte for byte.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { UnsafeIntegerError } from '../../src/index.ts';
import { readMessage, toMessage, type Columns, type Message } from '../../src/vocabulary/message.ts';
import { receiveRows, takeOverRows } from '../../src/engine/wire-rows.ts';

/** A backend message: type byte, length (itself included), body. */
function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

/** A DataRow of column text (null: SQL NULL). */
function dataRow(columns: readonly (string | null)[]): Buffer {
  const parts: Buffer[] = [Buffer.from([columns.length >> 8, columns.length & 0xff])];
  for (const column of columns) {
    const length = Buffer.alloc(4);
    if (column === null) {
      length.writeInt32BE(-1);
      parts.push(length);
    } else {
      const bytes = Buffer.from(column, 'utf8');
      length.writeInt32BE(bytes.length);
      parts.push(length, bytes);
    }
  }
  return message('D', Buffer.concat(parts));
}

const rows: (string | null)[][] = [
  ['6f1c1f5e-0b4c-4a8e-9b71-0d2f7c1e8a11', 'account-1', 'Deposited', '0', '1', '{"amount": 100}', '{"correlationStreamName": "x-1"}', '2026-11-27 08:14:30.123456'],
  // NULL data and metadata, non-ASCII text, 15 digits (read from the bytes), 16 digits (read as text).
  ['00000000-0000-4000-8000-000000000000', 'konto-ü€-2', 'Überwiesen', '999999999999999', '1234567890123456', null, null, '2000-01-01 00:00:00'],
  // A timestamp without fraction digits and a data value that is most of a chunk.
  ['11111111-1111-4111-8111-111111111111', 'big-3', 'Big', '7', '8', JSON.stringify({ text: 'ż'.repeat(40_000) }), '{}', '1999-12-31 23:59:59.5'],
];

const parseComplete = message('1', Buffer.alloc(0));
const bindComplete = message('2', Buffer.alloc(0));
const commandComplete = message('C', Buffer.from('SELECT 3\0', 'latin1'));
const readyForQuery = message('Z', Buffer.from('I', 'latin1'));
/** A row after ReadyForQuery: no statement takes it, so it goes to node-postgres. */
const lateRow = dataRow(['late', 'late-1', 'Late', '0', '9', null, null, '2000-01-01 00:00:00']);
const stream = Buffer.concat([parseComplete, bindComplete, ...rows.map(dataRow), commandComplete, readyForQuery, lateRow]);
const passedOn = Buffer.concat([parseComplete, bindComplete, commandComplete, readyForQuery, lateRow]);

/** Feed `chunks` through a taken-over stream; what the statement decoded and what node-postgres got. */
function feed(chunks: readonly Buffer[], decode: (columns: Columns) => Message = readMessage): { decoded: Message[]; passed: Buffer; errors: unknown[] } {
  const socket = new EventEmitter();
  const passed: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => passed.push(Buffer.from(chunk)));
  const connection = { stream: socket };
  assert.equal(takeOverRows(connection), true);
  const decoded: Message[] = [];
  const errors: unknown[] = [];
  receiveRows(connection, {
    readRow(columns) {
      try {
        decoded.push(decode(columns));
      } catch (error) {
        errors.push(error);
      }
    },
  });
  for (const chunk of chunks) socket.emit('data', chunk);
  return { decoded, passed: Buffer.concat(passed), errors };
}

const expected = rows.map((row) => toMessage(row));

test('rows read off the wire decode exactly as their column text does, and the rest passes on in order', () => {
  const { decoded, passed, errors } = feed([stream]);
  assert.deepEqual(errors, []);
  assert.deepEqual(decoded, expected);
  assert.deepEqual(passed, passedOn);
});

test('a stream cut at every byte, and one byte at a time, gives the same rows and passes on the same bytes', () => {
  for (let cut = 1; cut < stream.length; cut += cut < 200 || stream.length - cut < 200 ? 1 : 997) {
    const { decoded, passed } = feed([stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(decoded, expected, `cut at ${cut}`);
    assert.deepEqual(passed, passedOn, `cut at ${cut}`);
  }
  const head = stream.subarray(0, 600);
  const bytes = Array.from({ length: head.length }, (_, index) => head.subarray(index, index + 1));
  const { decoded, passed } = feed([...bytes, stream.subarray(600)]);
  assert.deepEqual(decoded, expected);
  assert.deepEqual(passed, passedOn);
});

test('a decoder error reaches the statement, and later rows and messages still arrive whole', () => {
  const unsafe = dataRow(['id', 'a-1', 'T', '0', '9007199254740993', null, null, '2000-01-01 00:00:00']);
  const { decoded, passed, errors } = feed([Buffer.concat([bindComplete, unsafe, dataRow(rows[0] as string[]), commandComplete, readyForQuery])]);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof UnsafeIntegerError);
  assert.match((errors[0] as Error).message, /global_position 9007199254740993/);
  assert.deepEqual(decoded, [expected[0]]);
  assert.deepEqual(passed, Buffer.concat([bindComplete, commandComplete, readyForQuery]));
});

test('a reader that throws gets its connection closed, and nothing after that row is passed on', () => {
  const destroyed: unknown[] = [];
  const socket = Object.assign(new EventEmitter(), { destroy: (error: unknown) => destroyed.push(error) });
  const passed: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => passed.push(Buffer.from(chunk)));
  const connection = { stream: socket };
  assert.equal(takeOverRows(connection), true);
  const failure = new Error('reader bug');
  receiveRows(connection, {
    readRow() {
      throw failure;
    },
  });
  socket.emit('data', stream);
  assert.deepEqual(destroyed, [failure]);
  assert.deepEqual(Buffer.concat(passed), Buffer.concat([parseComplete, bindComplete]));
});

test('a socket without exactly one data listener is left alone', () => {
  const socket = new EventEmitter();
  assert.equal(takeOverRows({ stream: socket }), false);
  socket.on('data', () => {});
  socket.on('data', () => {});
  assert.equal(takeOverRows({ stream: socket }), false);
  assert.equal(socket.listenerCount('data'), 2);
});
