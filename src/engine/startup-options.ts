/**
 * The `options` startup parameter a postgres connection sends: the client's settings merged with the
 * user's (a connection string's `options`, else `PGOPTIONS`). node-postgres let a connection
 * string's `options` replace the client's outright, which lost `search_path` (every call then failed
 * with SchemaMissingError) and `DateStyle` (every message's `time` became an Invalid Date).
 *
 * - `search_path`: message_store is put first, then the user's schemas. Message DB's functions name
 *   their table and helpers without a schema and carry no search_path of their own, so a schema
 *   before message_store with a `messages` table would receive the writes.
 * - `DateStyle`: an output style other than ISO is refused: message times are read from ISO text.
 *   (An order such as `ISO, DMY` is kept; it only affects how the server reads dates.)
 * - Everything else the user set is kept, in order, before the client's own settings.
 */
import { InvalidArgumentError } from '../vocabulary/errors.js';

/** The user's options: the connection string's `options` parameter, else PGOPTIONS (as libpq reads them). */
export interface UserOptions {
  text: string;
  /** What set them, named in errors: `connectionString` or `PGOPTIONS`. */
  argument: string;
}

/** A connection string without its `options` parameter, and that parameter's value (the last, if repeated). */
export function takeOptionsParameter(connectionString: string): { connectionString: string; options: string | undefined } {
  const query = connectionString.indexOf('?');
  if (query < 0) return { connectionString, options: undefined };
  const fragment = connectionString.indexOf('#', query);
  const end = fragment < 0 ? connectionString.length : fragment;
  let options: string | undefined;
  // The other parameters are kept byte for byte, as the user wrote them.
  const kept = connectionString
    .slice(query + 1, end)
    .split('&')
    .filter((pair) => {
      const [entry] = new URLSearchParams(pair);
      if (entry?.[0] !== 'options') return true;
      options = entry[1];
      return false;
    });
  const rest = kept.length === 0 ? '' : `?${kept.join('&')}`;
  return { connectionString: connectionString.slice(0, query) + rest + connectionString.slice(end), options };
}

/** Split an options string the way the server does (pg_split_opts): on whitespace, `\` escaping the next character. */
export function splitOptions(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let index = 0; index < text.length; index++) {
    let char = text[index] as string;
    if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    if (char === '\\' && index + 1 < text.length) char = text[++index] as string;
    word = (word ?? '') + char;
  }
  if (word !== undefined) words.push(word);
  return words;
}

function escapeWord(word: string): string {
  return word.replace(/[\\\s]/g, (char) => `\\${char}`);
}

/** A `-c name=value` (or `-cname=value`, `--name=value`) setting among the split words. */
interface Setting {
  /** Lower case, `-` read as `_`, as the server reads it. */
  name: string;
  value: string;
  /** Indexes of the words that made it. */
  words: number[];
}

function settings(words: readonly string[]): Setting[] {
  const found: Setting[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index] as string;
    let assignment: string | undefined;
    const used = [index];
    if (word === '-c' && index + 1 < words.length) {
      assignment = words[++index];
      used.push(index);
    } else if (word.startsWith('-c') && word.length > 2) {
      assignment = word.slice(2);
    } else if (word.startsWith('--')) {
      assignment = word.slice(2);
    }
    const equals = assignment?.indexOf('=') ?? -1;
    if (assignment === undefined || equals < 1) continue;
    found.push({ name: assignment.slice(0, equals).toLowerCase().replaceAll('-', '_'), value: assignment.slice(equals + 1), words: used });
  }
  return found;
}

/** A search_path with message_store first, then the user's schemas in their order. */
function searchPathWithMessageStore(value: string): string {
  const schemas = (value.match(/\s*"(?:[^"]|"")*"\s*|[^,]+/g) ?? []).map((schema) => schema.trim()).filter((schema) => schema !== '');
  const others = schemas.filter((schema) => schema.toLowerCase() !== 'message_store' && schema !== '"message_store"');
  return ['message_store', ...others].join(',');
}

const outputStyles = new Set(['iso', 'sql', 'postgres', 'german']);

function checkDateStyle(value: string, argument: string): void {
  const styles = value
    .split(/[\s,]+/)
    .map((part) => part.toLowerCase())
    .filter((part) => outputStyles.has(part));
  if (styles.some((style) => style !== 'iso')) {
    throw new InvalidArgumentError(
      argument,
      `sets DateStyle=${value} in its startup options; messagedb reads message times as ISO text, so DateStyle must be ISO (or left out)`,
    );
  }
}

/**
 * The options string for a connection: the user's settings (search_path with message_store first,
 * DateStyle checked), then the client's. InvalidArgumentError for a DateStyle that is not ISO.
 */
export function mergeStartupOptions(user: UserOptions | undefined, allowCondition: boolean): string {
  const words = user === undefined ? [] : splitOptions(user.text);
  let searchPathSet = false;
  for (const setting of settings(words)) {
    if (setting.name === 'datestyle') checkDateStyle(setting.value, (user as UserOptions).argument);
    if (setting.name !== 'search_path') continue;
    searchPathSet = true;
    // The value ends the setting's last word: replace it there, keeping how the name was written.
    const last = setting.words.at(-1) as number;
    const word = words[last] as string;
    words[last] = word.slice(0, word.length - setting.value.length) + searchPathWithMessageStore(setting.value);
  }
  const own = [...(searchPathSet ? [] : ['-c', 'search_path=message_store,public']), '-c', 'DateStyle=ISO'];
  // message_store.sql_condition is only switched on for clients that opted in to `condition`; any
  // value but 'off' enables it server-side, so it is never sent otherwise. Last, so it wins.
  if (allowCondition) own.push('-c', 'message_store.sql_condition=on');
  return [...words, ...own].map(escapeWord).join(' ');
}

/**
 * What a postgres connection to `connectionString` (or the PG* variables) is opened with: the
 * connection string without its `options`, and the merged options.
 */
export function startupOptionsFor(
  connectionString: string | undefined,
  allowCondition: boolean,
  env: NodeJS.ProcessEnv = process.env,
  argument = 'connectionString',
): { connectionString: string | undefined; options: string } {
  const taken = connectionString === undefined ? { connectionString, options: undefined } : takeOptionsParameter(connectionString);
  const user: UserOptions | undefined =
    taken.options !== undefined ? { text: taken.options, argument } : env.PGOPTIONS ? { text: env.PGOPTIONS, argument: 'PGOPTIONS' } : undefined;
  return { connectionString: taken.connectionString, options: mergeStartupOptions(user, allowCondition) };
}
