/**
 * Safe filters: a read asks the server only for messages of some types, or whose data has a
 * top-level field equal to a value, without the caller writing SQL. A filter compiles to Message
 * DB's `condition` (raw SQL the server appends to its WHERE clause with `format('%s')`), so every
 * value in it is written as a SQL literal by one function, `quoteLiteral`, and nothing else of the
 * caller's reaches the text.
 */
import { InvalidArgumentError } from './errors.js';
import { jsonText } from './json-text.js';
import * as validate from './validate.js';

/** A value a data field is compared with: JSON's scalars. */
export type FilterValue = string | number | boolean | null;

/**
 * What a read keeps, on the server. Every part given must hold (AND); within `types`, any one of
 * them (OR).
 *
 * @example
 * await client.getCategoryMessages('account', { filter: { types: ['Deposited', 'Withdrawn'] } })
 * await client.getCategoryMessages('account', { filter: { types: ['Deposited'], data: { currency: 'EUR' } } })
 */
export interface MessageFilter {
  /** Only messages of these types (at least one). */
  types?: readonly string[];
  /**
   * Only messages whose data has each of these top-level fields equal (as JSON) to the value given:
   * `{ currency: 'EUR' }` keeps `{"currency": "EUR", ...}`, not `{"currency": "eur"}` nor data without it.
   */
  data?: Readonly<Record<string, FilterValue>>;
}

/**
 * `value` as a SQL string literal that reads back as exactly `value`, whatever the server's
 * `standard_conforming_strings`. The one function that writes a caller's value into SQL text; it
 * mirrors PostgreSQL's own `quote_literal`: quotes are doubled, and a value with a backslash is
 * written as an escape string (`E'...'`) with the backslashes doubled too, because with
 * `standard_conforming_strings = off` a backslash in a plain literal would escape the next
 * character (the quote that ends the literal, say). Refuses what PostgreSQL text cannot hold: NUL,
 * and lone UTF-16 surrogates (they would become U+FFFD on the way in).
 */
export function quoteLiteral(value: string, argument = 'value'): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(argument, `must be a string (got ${typeof value})`);
  if (value.includes('\u0000')) throw new InvalidArgumentError(argument, 'must not contain a NUL character (PostgreSQL text cannot hold one)');
  if (!value.isWellFormed()) throw new InvalidArgumentError(argument, 'must be well-formed Unicode (it has a lone surrogate)');
  const quoted = `'${value.replaceAll("'", "''")}'`;
  return value.includes('\\') ? `E${quoted.replaceAll('\\', '\\\\')}` : quoted;
}

/** A compiled filter: the condition text, or null when the filter keeps everything. */
export function filterCondition(filter: unknown, argument = 'filter'): string | null {
  if (filter === undefined || filter === null) return null;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw new InvalidArgumentError(argument, 'must be an object ({ types, data })');
  const { types, data, ...rest } = filter as MessageFilter;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new InvalidArgumentError(argument, `has unknown keys (${unknown.join(', ')}): a filter takes types and data`);
  const parts: string[] = [];
  if (types !== undefined) parts.push(typesCondition(types, `${argument}.types`));
  if (data !== undefined) parts.push(...dataConditions(data, `${argument}.data`));
  if (parts.length === 0) throw new InvalidArgumentError(argument, 'must have types or data (an empty filter would keep everything)');
  return parts.join(' AND ');
}

function typesCondition(types: unknown, argument: string): string {
  if (!Array.isArray(types) || types.length === 0) throw new InvalidArgumentError(argument, 'must be a non-empty array of message types');
  const literals = [...new Set(types.map((type, index) => validate.text(`${argument}[${index}]`, type)))].map((type) => quoteLiteral(type, argument));
  return `type IN (${literals.join(', ')})`;
}

function dataConditions(data: unknown, argument: string): string[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InvalidArgumentError(argument, 'must be an object of field names and values');
  const entries = Object.entries(data);
  if (entries.length === 0) throw new InvalidArgumentError(argument, 'must name at least one field');
  return entries.map(([field, value]) => {
    const fieldArgument = `${argument}.${field}`;
    if (value !== null && typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new InvalidArgumentError(fieldArgument, `must be a string, a finite number, a boolean or null (got ${typeof value})`);
    }
    // jsonb equality: 1 and 1.0 are equal, "1" and 1 are not; a missing field is SQL NULL, never equal.
    return `data->${quoteLiteral(validate.text(argument, field), argument)} = ${quoteLiteral(jsonText(fieldArgument, value), fieldArgument)}::jsonb`;
  });
}
