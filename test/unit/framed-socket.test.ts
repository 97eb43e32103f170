/**
 * The postgres engine's socket (src/engine/framed-socket.ts) passes the server's bytes on with every
 * 'data' event ending on a message boundary: a stream of backend messages cut into reads at every
 * possible place must come out whole, in order, byte for byte, and a read of whole messages must be
 * passed on as it is (not copied).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FramedSocket } from '../../src/engine/framed-socket.ts';

/** A backend message: type byte, length (itself included), body. */
function message(type: string, body: string): Buffer {
  const bytes = Buffer.from(body, 'utf8');
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + bytes.length, 1);
  return Buffer.concat([header, bytes]);
}

const messages = [message('2', ''), message('D', 'a row, ünïcödé'), message('D', 'x'.repeat(300)), message('C', 'SELECT 2\0'), message('Z', 'I')];
const stream = Buffer.concat(messages);

/** What a FramedSocket emits for `reads`. */
function framed(reads: Buffer[]): Buffer[] {
  const socket = new FramedSocket();
  const out: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => out.push(chunk));
  for (const read of reads) socket.emit('data', read);
  socket.destroy();
  return out;
}

/** True when `chunk` is a run of whole messages. */
function wholeMessages(chunk: Buffer): boolean {
  let offset = 0;
  while (offset < chunk.length) {
    if (chunk.length - offset < 5) return false;
    offset += 1 + chunk.readUInt32BE(offset + 1);
  }
  return offset === chunk.length;
}

test('a stream cut into two reads at every byte comes out as whole messages, byte for byte', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const out = framed([stream.subarray(0, cut), stream.subarray(cut)].filter((read) => read.length > 0));
    assert.ok(out.every(wholeMessages), `cut at ${cut}`);
    assert.deepEqual(Buffer.concat(out), stream, `cut at ${cut}`);
  }
});

test('a stream read one byte at a time comes out as its messages, one by one', () => {
  const out = framed([...stream].map((byte) => Buffer.from([byte])));
  assert.deepEqual(out, messages);
});

test('a read of whole messages is passed on as it is, without a copy', () => {
  const [out] = framed([stream]);
  assert.equal(out, stream);
});

test('other events pass through unchanged', () => {
  const socket = new FramedSocket();
  let seen: unknown;
  socket.on('custom', (value: unknown) => (seen = value));
  socket.emit('custom', 42);
  socket.destroy();
  assert.equal(seen, 42);
});
