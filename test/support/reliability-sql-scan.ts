/**
 * A small lexer over TypeScript source for the security suite: it finds every template literal
 * (with the expressions interpolated into it) and every string literal joined with `+`, skipping
 * comments, strings and regular expressions, so a test can tell which SQL texts are built from
 * something other than constant text.
 */

/** One template literal: its constant text (`${…}` where an expression goes) and its expressions. */
export interface TemplateLiteral {
  line: number;
  text: string;
  expressions: string[];
}

/** A string literal that is an operand of `+`. */
export interface Concatenation {
  line: number;
  literal: string;
}

export interface ScanResult {
  templates: TemplateLiteral[];
  concatenations: Concatenation[];
}

/** After these characters (or at the start), a `/` begins a regular expression, not a division. */
const beforeRegex = new Set(['', '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);

export function scanSource(source: string): ScanResult {
  const templates: TemplateLiteral[] = [];
  const concatenations: Concatenation[] = [];
  const lineAt = (index: number): number => source.slice(0, index).split('\n').length;
  const previousSignificant = (index: number): string => {
    let at = index - 1;
    while (at >= 0 && /\s/.test(source[at] as string)) at--;
    if (at < 0) return '';
    const word = /[A-Za-z_$]+$/.exec(source.slice(Math.max(0, at - 10), at + 1))?.[0];
    return word === 'return' || word === 'typeof' || word === 'case' ? '' : (source[at] as string);
  };
  const nextSignificant = (index: number): string => {
    let at = index;
    while (at < source.length && /\s/.test(source[at] as string)) at++;
    return source[at] ?? '';
  };

  /** Skip a quoted string starting at `start`; returns the index after it. */
  const skipString = (start: number): number => {
    const quote = source[start];
    let at = start + 1;
    while (at < source.length && source[at] !== quote) at += source[at] === '\\' ? 2 : 1;
    return at + 1;
  };
  const skipRegex = (start: number): number => {
    let at = start + 1;
    let inClass = false;
    while (at < source.length) {
      const char = source[at];
      if (char === '\\') at += 2;
      else if (char === '[') {
        inClass = true;
        at++;
      } else if (char === ']') {
        inClass = false;
        at++;
      } else if (char === '/' && !inClass) break;
      else at++;
    }
    at++;
    while (/[a-z]/.test(source[at] ?? '')) at++;
    return at;
  };

  /** Scan code from `start` until an unmatched `}` (inside `${…}`) or the end; returns that index. */
  const scanCode = (start: number, insideInterpolation: boolean): number => {
    let depth = 0;
    let at = start;
    while (at < source.length) {
      const char = source[at] as string;
      const next = source[at + 1];
      if (char === '/' && next === '/') at = source.indexOf('\n', at) === -1 ? source.length : source.indexOf('\n', at);
      else if (char === '/' && next === '*') at = source.indexOf('*/', at + 2) + 2;
      else if (char === "'" || char === '"') {
        const end = skipString(at);
        if (previousSignificant(at) === '+' || nextSignificant(end) === '+') concatenations.push({ line: lineAt(at), literal: source.slice(at, end) });
        at = end;
      } else if (char === '`') at = scanTemplate(at);
      else if (char === '/' && beforeRegex.has(previousSignificant(at))) at = skipRegex(at);
      else if (char === '{') {
        depth++;
        at++;
      } else if (char === '}') {
        if (depth === 0 && insideInterpolation) return at;
        depth--;
        at++;
      } else at++;
    }
    return at;
  };

  /** Scan a template literal starting at the backtick at `start`; returns the index after it. */
  const scanTemplate = (start: number): number => {
    const template: TemplateLiteral = { line: lineAt(start), text: '', expressions: [] };
    templates.push(template);
    let at = start + 1;
    while (at < source.length && source[at] !== '`') {
      if (source[at] === '\\') {
        template.text += source.slice(at, at + 2);
        at += 2;
      } else if (source[at] === '$' && source[at + 1] === '{') {
        const end = scanCode(at + 2, true);
        template.expressions.push(source.slice(at + 2, end).trim());
        template.text += '${…}';
        at = end + 1;
      } else {
        template.text += source[at];
        at++;
      }
    }
    return at + 1;
  };

  scanCode(0, false);
  return { templates, concatenations };
}

/** Text that reads as SQL: a statement keyword in capitals, or a `$1`-style parameter. */
export const looksLikeSql = (text: string): boolean =>
  /\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|GRANT|REVOKE|LISTEN|UNLISTEN|NOTIFY|SET|BEGIN|COMMIT|ROLLBACK|LOCK|TRUNCATE|COPY|WHERE|FROM)\b|\$\d/.test(
    text,
  );
