/**
 * The frame of every command that uses a database: resolve the target and the output format, open,
 * run, always close (the embedded lock included), and turn errors into one-line CLI errors that
 * name the target.
 */
import { toCliError } from './cli-error.js';
import { Output, chooseFormat, type FormatOptions } from './output.js';
import { openClient, openRunner, resolveTarget, type OpenClient, type OpenRunner, type Target, type TargetOptions } from './target.js';

/** What every command's action gets besides its own arguments. */
export interface CliContext {
  /** Fires on Ctrl-C. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The options every command that uses a database takes. */
export type CommonOptions = TargetOptions & FormatOptions;

async function frame<Opened extends { close(): Promise<void> }, T>(
  context: CliContext,
  options: CommonOptions,
  open: (target: Target, notify: (line: string) => void) => Promise<Opened>,
  work: (opened: Opened, output: Output) => Promise<T>,
): Promise<T> {
  const output = new Output(chooseFormat(options));
  const target = resolveTarget(options, context.env, context.cwd);
  let opened: Opened | undefined;
  try {
    opened = await open(target, (line) => output.note(line));
    return await work(opened, output);
  } catch (error) {
    throw toCliError(error, { target: target.description });
  } finally {
    await opened?.close().catch(() => {});
  }
}

/** Run `work` with a client on the target. `install: false` leaves a new embedded database empty. */
export function withClient<T>(
  context: CliContext,
  options: CommonOptions,
  work: (opened: OpenClient, output: Output) => Promise<T>,
  { install = true }: { install?: boolean } = {},
): Promise<T> {
  return frame(context, options, (target, notify) => openClient(target, notify, { install }), work);
}

/** Run `work` with a statement runner on the target, for the CLI's own SQL. */
export function withRunner<T>(context: CliContext, options: CommonOptions, work: (opened: OpenRunner, output: Output) => Promise<T>): Promise<T> {
  return frame(context, options, openRunner, work);
}
