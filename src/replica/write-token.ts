/**
 * Write tokens: the primary's WAL position (a PostgreSQL LSN such as `16/B374D848`) taken after a
 * write committed. A replica whose replay position has reached the token shows that write, and
 * every write committed before it. Tokens are plain text, so they can travel (an HTTP header,
 * another process) and come back as a read's `after`.
 */
import { InvalidArgumentError } from '../vocabulary/errors.js';

/** The primary's WAL position after a write committed, as PostgreSQL prints an LSN (`16/B374D848`). */
export type WriteToken = string;

const lsnText = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

/** An LSN's text as one 64-bit number, so positions compare (`pg_lsn` is two 32-bit halves). */
export function lsnValue(lsn: string): bigint {
  const match = lsnText.exec(lsn);
  if (match === null) throw new Error(`not a WAL position: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** A 64-bit WAL position back in PostgreSQL's notation. */
export function formatLsn(value: bigint): WriteToken {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * A read's `after`: a write token, or null for "do not wait". Checked before any SQL runs; returns
 * the position to wait for, or null.
 */
export function afterPosition(value: unknown, argument = 'after'): bigint | null {
  if (value === null) return null;
  if (typeof value !== 'string' || !lsnText.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
    throw new InvalidArgumentError(argument, `must be a write token such as "0/16B3748" (client.writeToken), or null (got ${shown})`);
  }
  return lsnValue(value);
}
