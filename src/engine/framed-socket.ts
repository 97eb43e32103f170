/**
 * The socket the postgres engine hands postgres.js (its documented `socket` option): a plain TCP
 * or Unix socket whose 'data' events carry whole backend messages only. postgres.js joins a
 * message cut between two reads by copying what it holds together with the whole next read, so a
 * large result was copied once more in full, 64 kB at a time; here only the cut message is copied,
 * and the rest of each read is passed on as it is. Not used when the connection asks for SSL
 * (its answer to the SSLRequest is one unframed byte, and TLS frames the data itself).
 */
import { Socket } from 'node:net';

/** A socket whose 'data' events end on message boundaries. */
export class FramedSocket extends Socket {
  /** The start of a message cut at the end of the last read. */
  #held: Buffer[] = [];
  #heldLength = 0;
  /** The cut message's whole length, once its header (5 bytes) has arrived. */
  #needed = 0;

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'data') return super.emit(event, ...args);
    let chunk = args[0] as Buffer;
    if (this.#heldLength > 0 && this.#needed === 0) {
      // Fewer than 5 bytes held: complete the header first (a copy of at most 5 bytes).
      const taken = Math.min(chunk.length, 5 - this.#heldLength);
      const head = Buffer.concat([...this.#held, chunk.subarray(0, taken)]);
      chunk = chunk.subarray(taken);
      this.#held = [head];
      this.#heldLength = head.length;
      if (head.length < 5) return true;
      this.#needed = 1 + head.readUInt32BE(1);
    }
    if (this.#heldLength > 0) {
      const missing = this.#needed - this.#heldLength;
      if (chunk.length < missing) {
        this.#held.push(chunk);
        this.#heldLength += chunk.length;
        return true;
      }
      const whole = Buffer.concat([...this.#held, chunk.subarray(0, missing)], this.#needed);
      this.#held = [];
      this.#heldLength = 0;
      this.#needed = 0;
      chunk = chunk.subarray(missing);
      super.emit('data', whole);
    }
    let end = 0;
    while (chunk.length - end >= 5) {
      const next = end + 1 + chunk.readUInt32BE(end + 1);
      if (next > chunk.length) break;
      end = next;
    }
    if (end > 0) super.emit('data', end === chunk.length ? chunk : chunk.subarray(0, end));
    if (end < chunk.length) {
      const rest = chunk.subarray(end);
      this.#held = [rest];
      this.#heldLength = rest.length;
      this.#needed = rest.length >= 5 ? 1 + rest.readUInt32BE(1) : 0;
    }
    return true;
  }
}
