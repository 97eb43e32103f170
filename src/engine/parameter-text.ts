/**
 * Bound values as the text the server reads, converted here rather than by the driver: every
 * parameter goes out as text with an unknown type (the statement's casts, `$1::varchar[]`, say what
 * it is), so postgres.js never needs to know array types (no catalogue query at connect) and never
 * re-serialises a value by the type the server described (it would JSON-encode a string sent to a
 * `jsonb` parameter of the caller's own SQL).
 */

/** The text of one bound value, or null for SQL NULL. */
export function parameterText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  if (Array.isArray(value)) return arrayLiteral(value);
  return JSON.stringify(value);
}

/** Every bound value as text (see parameterText). */
export function parameterTexts(values: readonly unknown[]): (string | null)[] {
  return values.map(parameterText);
}

/** A PostgreSQL array literal: `{"a","b",NULL}`, nested arrays as nested braces. */
function arrayLiteral(values: readonly unknown[]): string {
  const elements = values.map((value) => {
    if (value === null || value === undefined) return 'NULL';
    if (Array.isArray(value)) return arrayLiteral(value);
    const text = parameterText(value) as string;
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${elements.join(',')}}`;
}
