/**
 * JSON on the command line with its numbers kept exact. `JSON.parse` reads every number as a 64-bit
 * float, so `12345678901234567890` would be written as `12345678901234567000` and `1e400` as `null`,
 * without a word. Input is checked literal by literal and refused when a number would change; output
 * is printed from the stored JSON text, so a number written by another client is shown as it is stored.
 */
import { usageError } from './cli-error.js';

/** A number written in decimal: 0.`digits` x 10^`exponent`, no leading or trailing zeros; zero has no digits. */
interface Decimal {
  negative: boolean;
  digits: string;
  exponent: number;
}

const numberText = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** The decimal value of a JSON number literal, or of `String(number)` (which is one, exponent sign aside). */
function decimalOf(text: string): Decimal {
  const parts = numberText.exec(text);
  if (parts === null) return { negative: false, digits: 'NaN', exponent: 0 };
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = parts;
  const all = whole + fraction;
  const leading = all.length - all.replace(/^0+/, '').length;
  const digits = all.slice(leading).replace(/0+$/, '');
  if (digits === '') return { negative: false, digits: '', exponent: 0 };
  return { negative: sign === '-', digits, exponent: Number(exponent) + whole.length - leading };
}

/** The value JSON.parse gives `literal`, as JSON would print it, when that is not the literal's value; else undefined. */
export function inexactNumber(literal: string): string | undefined {
  const value = Number(literal);
  if (!Number.isFinite(value)) return 'null';
  const written = decimalOf(literal);
  const read = decimalOf(String(value));
  const same = written.digits === read.digits && written.exponent === read.exponent && written.negative === read.negative;
  return same ? undefined : String(value);
}

/** `$`, `$.key`, `$["odd key"]`, `$[2]`: where a value is in a JSON document. */
type Step = { key: string } | { index: number };

function pathText(steps: readonly Step[]): string {
  return steps
    .map((step) => ('index' in step ? `[${step.index}]` : /^[A-Za-z_$][\w$]*$/.test(step.key) ? `.${step.key}` : `[${JSON.stringify(step.key)}]`))
    .reduce((path, step) => path + step, '$');
}

interface Frame {
  step: Step | undefined;
  object: boolean;
  /** In an object: the next string is a key. */
  expectKey: boolean;
}

/** The end of the string that starts at `start` (its opening quote), just past the closing quote. */
function stringEnd(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 92) index++;
    else if (code === 34) return index + 1;
  }
  return text.length;
}

/** What {@link scanNumbers} found. */
interface NumberScan {
  /** The first literal that JSON.parse does not read as its own value, with its path. */
  inexact?: { path: string; literal: string; becomes: string };
  /** A `-0` (or `-0.0`...) literal: JSON.parse reads it as -0, which is 0 as a decimal. */
  negativeZero: boolean;
}

/** Walk valid JSON text (JSON.parse has accepted it) and check each number literal. */
function scanNumbers(text: string): NumberScan {
  const frames: Frame[] = [];
  let step: Step | undefined;
  let negativeZero = false;
  const steps = (): Step[] => [...frames.map((frame) => frame.step), step].filter((each): each is Step => each !== undefined);
  for (let index = 0; index < text.length; ) {
    const char = text[index] as string;
    const top = frames.at(-1);
    if (char === '{' || char === '[') {
      frames.push({ step, object: char === '{', expectKey: char === '{' });
      step = char === '[' ? { index: 0 } : undefined;
      index++;
    } else if (char === '}' || char === ']') {
      step = frames.pop()?.step;
      index++;
    } else if (char === ',') {
      if (top?.object === true) top.expectKey = true;
      else if (step !== undefined && 'index' in step) step = { index: step.index + 1 };
      index++;
    } else if (char === '"') {
      const end = stringEnd(text, index);
      if (top?.expectKey === true) {
        step = { key: JSON.parse(text.slice(index, end)) as string };
        top.expectKey = false;
      }
      index = end;
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      let end = index + 1;
      while (end < text.length && /[0-9.eE+-]/.test(text[end] as string)) end++;
      const literal = text.slice(index, end);
      const becomes = inexactNumber(literal);
      if (becomes !== undefined) return { inexact: { path: pathText(steps()), literal, becomes }, negativeZero };
      if (literal.startsWith('-') && Number(literal) === 0) negativeZero = true;
      index = end;
    } else {
      index++;
    }
  }
  return { negativeZero };
}

/**
 * `value`, which JSON.parse made of `text`, when every number in `text` is read as the value written;
 * otherwise a usage error (exit 2) naming `where`, the number and its path. `-0` is read as 0: as a
 * decimal it is 0.
 */
export function checkNumbersExact(where: string, text: string, value: unknown): unknown {
  const scan = scanNumbers(text);
  if (scan.inexact !== undefined) {
    const { path, literal, becomes } = scan.inexact;
    throw usageError(
      `${where}: the number ${literal} at ${path} cannot be stored exactly: JSON numbers are read as 64-bit floats ` +
        `and it would become ${becomes}; write it as a string ("${literal}") to keep every digit`,
    );
  }
  return scan.negativeZero ? JSON.parse(text, (_key, each: unknown) => (Object.is(each, -0) ? 0 : each)) : value;
}

/** Parse JSON given by the user, with its numbers kept exact ({@link checkNumbersExact}). */
export function parseExactJson(where: string, text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
  return checkNumbersExact(where, text, value);
}

/**
 * Stored JSON text (PostgreSQL prints jsonb with a space after `:` and `,`) without the whitespace
 * between tokens, as JSON.stringify prints it; every token, numbers included, is kept as stored.
 */
export function compactJson(text: string): string {
  let compact = '';
  let from = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 34) {
      index = stringEnd(text, index) - 1;
    } else if (code === 32 || code === 10 || code === 13 || code === 9) {
      compact += text.slice(from, index);
      from = index + 1;
    }
  }
  return from === 0 ? text : compact + text.slice(from);
}
