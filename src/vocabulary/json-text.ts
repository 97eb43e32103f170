/**
 * JSON text for a jsonb parameter, refusing what JSON.stringify would silently change. One walk
 * both checks and serialises the value, and its text is exactly JSON.stringify's for every value it
 * accepts. It refuses, naming the path of the offending value (`message.data.items[3].price`):
 *
 * - numbers that are not finite (NaN and ±Infinity become `null`), BigInt, functions and symbols
 *   (dropped, or `null` in an array);
 * - `undefined` as an array element and holes in sparse arrays (both become `null`);
 * - objects other than plain objects and arrays, unless they have `toJSON`: a Map, Set, RegExp,
 *   Error or class instance becomes `{}` or loses what lives on its prototype, a typed array becomes
 *   an object of indexes;
 * - a `toJSON` that returns `undefined`, an invalid Date (both become `null` or vanish);
 * - cycles, and nesting deeper than {@link MAX_JSON_DEPTH};
 * - strings and keys jsonb cannot store: a NUL character, a lone surrogate.
 *
 * It keeps two JSON.stringify rules on purpose: an object property whose value is `undefined` is
 * omitted (an optional property set to `undefined` is common TypeScript, and reads back as
 * `undefined` all the same), and `-0` is written as `0` (JSON has no negative zero, jsonb stores
 * `-0` as `0`, and it comes from ordinary arithmetic such as `Math.round(-0.2)`). Symbol-keyed and
 * non-enumerable properties are not part of the value, as for JSON.stringify.
 */
import { InvalidArgumentError } from './errors.js';

/** Deepest nesting of arrays and objects accepted; JSON.stringify itself overflows the stack a few thousand levels down. */
export const MAX_JSON_DEPTH = 1000;

/** A refusal on its way out of the walk: each level adds its path segment as it unwinds. */
class Refusal {
  readonly segments: string[] = [];
  constructor(
    readonly problem: string,
    readonly cause?: unknown,
    /** False for nesting too deep, whose path would be a thousand segments: it names the whole value instead. */
    readonly hasPath = true,
  ) {}
}

const identifier = /^[A-Za-z_$][\w$]*$/;

/**
 * The JSON text of `value`, as JSON.stringify writes it, or an InvalidArgumentError whose argument
 * is `argument` followed by the path of the first value it refuses.
 */
export function jsonText(argument: string, value: unknown): string {
  try {
    return serialise(value, '', []);
  } catch (error) {
    const refusal = toRefusal(error);
    const path = argument + refusal.segments.reverse().join('');
    throw new InvalidArgumentError(path, refusal.problem, refusal.cause === undefined ? undefined : { cause: refusal.cause });
  }
}

function toRefusal(error: unknown): Refusal {
  if (error instanceof Refusal) return error;
  // A getter or toJSON that throws, or a stack already too deep for the walk.
  if (error instanceof RangeError && /call stack/i.test(error.message)) return new Refusal('is nested too deeply to serialise', error, false);
  const name = error instanceof Error ? error.name : typeof error;
  return new Refusal(`could not be serialised: reading it threw ${name}`, error);
}

/** Add the segment of `key` to a refusal passing through its parent. */
function through(error: unknown, segment: string): Refusal {
  const refusal = toRefusal(error);
  if (refusal.hasPath) refusal.segments.push(segment);
  return refusal;
}

function keySegment(key: string): string {
  if (identifier.test(key)) return `.${key}`;
  return `[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}]`;
}

/** `key` is the property name or array index, passed to toJSON as JSON.stringify does. */
function serialise(value: unknown, key: string | number, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return quote(value, false);
    case 'number':
      if (Number.isFinite(value)) return `${value}`;
      throw new Refusal(`must be a finite number (got ${value})`);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return converted(value, toJSON.call(value, `${key}`), ancestors);
      return container(value, ancestors);
    }
    case 'undefined':
      throw new Refusal('must not be undefined');
    case 'bigint': {
      // JSON.stringify honours a BigInt.prototype.toJSON that an application may have added.
      const toJSON = (value as unknown as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return converted(value, toJSON.call(value, `${key}`), ancestors);
      throw new Refusal('is a BigInt: JSON cannot represent it (convert it to a string or a number)');
    }
    default:
      throw new Refusal(`is a ${typeof value}: JSON cannot represent it`);
  }
}

/** What toJSON returned, serialised as JSON.stringify does: without calling toJSON again. */
function converted(original: unknown, value: unknown, ancestors: object[]): string {
  if (value === undefined) throw new Refusal('has a toJSON method that returned undefined: JSON would drop the value');
  if (value === null && original instanceof Date) throw new Refusal('is an invalid Date: JSON would store null');
  if (typeof value === 'bigint') throw new Refusal('has a toJSON method that returned a BigInt: JSON cannot represent it');
  if (typeof value === 'object' && value !== null) return container(value, ancestors);
  return serialise(value, '', ancestors);
}

/** An array or a plain object (prototype Object.prototype or null). */
function container(value: object, ancestors: object[]): string {
  if (ancestors.includes(value)) throw new Refusal('refers to an object that contains it (a cycle): JSON cannot represent it');
  if (ancestors.length >= MAX_JSON_DEPTH) throw new Refusal(`is nested more than ${MAX_JSON_DEPTH} levels deep`, undefined, false);
  if (Array.isArray(value)) return array(value, ancestors);
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype !== Object.prototype && prototype !== null && !isObjectPrototype(prototype)) {
    const name = kind(value, prototype);
    throw new Refusal(`is a${/^[AEIO]/.test(name) ? 'n' : ''} ${name}: JSON cannot represent it (pass a plain object or array, or give it a toJSON method)`);
  }
  ancestors.push(value);
  let text = '{';
  let separator = '';
  for (const key of Object.keys(value)) {
    try {
      const item = (value as Record<string, unknown>)[key];
      // Omitted, as JSON.stringify does: an optional property set to undefined reads back the same.
      if (item === undefined) continue;
      const json = serialise(item, key, ancestors);
      text += `${separator}${quote(key, true)}:${json}`;
      separator = ',';
    } catch (error) {
      throw through(error, keySegment(key));
    }
  }
  ancestors.pop();
  return `${text}}`;
}

function array(value: readonly unknown[], ancestors: object[]): string {
  ancestors.push(value);
  let text = '[';
  for (let index = 0; index < value.length; index++) {
    try {
      const item = value[index];
      if (item === undefined) {
        throw new Refusal(index in value ? 'must not be undefined: JSON would store null' : 'is a hole in a sparse array: JSON would store null');
      }
      text += index === 0 ? serialise(item, index, ancestors) : `,${serialise(item, index, ancestors)}`;
    } catch (error) {
      throw through(error, `[${index}]`);
    }
  }
  ancestors.pop();
  return `${text}]`;
}

/** A plain object made in another realm (a vm context): its prototype is that realm's Object.prototype. */
function isObjectPrototype(prototype: object): boolean {
  if (Object.getPrototypeOf(prototype) !== null) return false;
  const maker = (prototype as { constructor?: unknown }).constructor;
  return typeof maker === 'function' && maker.name === 'Object';
}

function kind(value: object, prototype: object): string {
  const maker = (prototype as { constructor?: unknown }).constructor;
  const name = typeof maker === 'function' ? maker.name : '';
  return name !== '' ? name : Object.prototype.toString.call(value).slice(8, -1);
}

/**
 * A JSON string literal. jsonb refuses `\u0000` ("unsupported Unicode escape sequence") and lone
 * surrogates, which JSON.stringify escapes. Text that needs no escape at all (nearly all of it)
 * skips both checks, and short text is scanned here because a call into JSON.stringify per string
 * would cost more than the scan.
 */
function quote(text: string, isKey: boolean): string {
  if (text.length <= 64 ? plain(text) : !needsEscape.test(text)) return `"${text}"`;
  if (text.includes('\u0000')) throw new Refusal(isKey ? 'must not have a NUL character in its key' : 'must not contain a NUL character');
  if (!text.isWellFormed()) {
    throw new Refusal(isKey ? 'must not have a lone surrogate in its key (well-formed Unicode only)' : 'must be well-formed Unicode (it has a lone surrogate)');
  }
  return JSON.stringify(text);
}

/** What JSON.stringify escapes: `"`, `\`, control characters; and surrogates, paired or not. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly these control characters.
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/;

function plain(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return false;
  }
  return true;
}
