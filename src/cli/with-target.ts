/**
 * The frame of every command that uses a database: resolve the target and the output format, open,
 * run, always close (the embedded lock included), and turn errors into one-line CLI errors that
 * name the target.
 */
import { toCliError, type ErrorContext } from './cli-error.js';
import { Output, chooseFormat, type FormatOptions } from './output.js';
import { openClient, resolveTarget, type OpenClient, type Target, type TargetOptions } from './target.js';

/** What every command's action gets besides its own arguments. */
export interface CliContext {
  /** Fires on Ctrl-C. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The options every command that uses a database takes. */
export type CommonOptions = TargetOptions & FormatOptions;

/** Quote a word for a POSIX shell when it needs it, so a printed command line can be pasted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A connection string without its password (in the user part or a `password` parameter), or undefined if it had none. */
function withoutPassword(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    const parameters = [...parsed.searchParams.keys()].filter((key) => /pass/i.test(key));
    if (parsed.password === '' && parameters.length === 0) return undefined;
    parsed.password = '';
    for (const key of parameters) parsed.searchParams.delete(key);
    return parsed.toString();
  } catch {
    return undefined;
  }
}

/**
 * How errors name the target the user gave: the `messagedb install` command line for it (never with
 * a password: printed without it, with a word to add it back), and where its URL came from.
 */
export function errorContext(options: CommonOptions, target: Target, env: NodeJS.ProcessEnv): ErrorContext {
  const context: ErrorContext = { target: target.description };
  if (options.dataDir !== undefined) context.installCommand = `\`messagedb install --data-dir ${shellWord(options.dataDir)}\``;
  if (options.url !== undefined && target.kind === 'postgres') {
    context.urlSource = '--url';
    const bare = withoutPassword(target.url);
    context.installCommand =
      bare === undefined
        ? `\`messagedb install --url ${shellWord(target.url)}\``
        : `\`messagedb install --url ${shellWord(bare)}\` (with your password added to the URL: it is not printed)`;
  } else if (target.kind === 'postgres') {
    // The same environment picks the same database: the plain command is the one to run.
    context.urlSource = (env.MESSAGE_DB_URL ?? '') !== '' ? 'MESSAGE_DB_URL' : 'DATABASE_URL';
  }
  return context;
}

/**
 * Run `work` with a client on the target (`MessageDbClient.connect` or `embedded`, as any user
 * opens one). `install: false` leaves a new embedded database empty.
 */
export async function withClient<T>(
  context: CliContext,
  options: CommonOptions,
  work: (opened: OpenClient, output: Output) => Promise<T>,
  { install = true }: { install?: boolean } = {},
): Promise<T> {
  const output = new Output(chooseFormat(options));
  const target = resolveTarget(options, context.env, context.cwd);
  let opened: OpenClient | undefined;
  try {
    opened = await openClient(target, (line) => output.note(line), { install });
    return await work(opened, output);
  } catch (error) {
    throw toCliError(error, errorContext(options, target, context.env));
  } finally {
    await opened?.close().catch(() => {});
  }
}
