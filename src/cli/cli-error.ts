/**
 * How the command fails: one line on stderr and an exit code a script can branch on. Errors the
 * user can fix (bad input, unknown stream, unreachable server, missing schema, wrong expected
 * version) never print a stack trace; the text never holds a password.
 */
import {
  isAbortError,
  isAuthenticationError,
  isConnectionError,
  isDataDirLockedError,
  isDatabaseMissingError,
  isDeadlockError,
  isDuplicateMessageIdError,
  isExpectedVersionError,
  isInvalidArgumentError,
  isPoolTimeoutError,
  isSchemaMissingError,
  isStatementTimeoutError,
} from '../vocabulary/errors.js';
import { safeText } from '../vocabulary/postgres-error.js';

/** The command's exit codes (documented in docs/cli.md). */
export const ExitCode = {
  ok: 0,
  /** The database refused the operation (wrong expected version, duplicate id), or the demo's check failed. */
  failed: 1,
  /** Bad arguments, options, JSON or input file. */
  usage: 2,
  /** The stream or category has no messages. */
  notFound: 3,
  /** The database cannot be reached or opened. */
  unavailable: 4,
  /** Message DB is not installed in the database. */
  schemaMissing: 5,
  /** Stopped by Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

/** One of the exit codes. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the command reports as it is: its message is the line printed, `exitCode` the exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
  }
}

/** Bad input from the user. */
export const usageError = (message: string): CliError => new CliError(message, ExitCode.usage);

/** What the target was, for messages: safe to print (already redacted). */
export interface ErrorContext {
  target?: string;
  /** The `messagedb install` command line for the same target, without a password. */
  installCommand?: string;
  /** Where the connection string came from: `--url`, `MESSAGE_DB_URL` or `DATABASE_URL`. */
  urlSource?: string;
}

/** SQLSTATEs that mean the server refused the connection itself: bad credentials, no such database. */
function isConnectRefusal(code: string): boolean {
  return code.startsWith('28') || code === '3D000';
}

function oneLine(text: string): string {
  return safeText(text)
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** The reason a socket-level failure gives, even when node-postgres leaves the message empty. */
function connectionDetail(error: Error): string {
  let cause = error.cause;
  if (cause instanceof AggregateError && cause.message === '') cause = cause.errors.find((inner) => inner instanceof Error) ?? cause;
  if (!(cause instanceof Error)) return error.message;
  const code = (cause as { code?: unknown }).code;
  return cause.message !== '' ? cause.message : typeof code === 'string' ? code : error.message;
}

/** Turn anything thrown into the line to print and the exit code. */
export function toCliError(error: unknown, context: ErrorContext = {}): CliError {
  if (error instanceof CliError) return error;
  const where = context.target === undefined ? 'the database' : context.target;
  const install = context.installCommand ?? '`messagedb install`';
  if (isExpectedVersionError(error)) {
    return new CliError(
      `wrong expected version for stream ${error.streamName}: expected ${error.expectedVersion}, ` + `but the stream version is ${error.streamVersion}`,
      ExitCode.failed,
    );
  }
  if (isDuplicateMessageIdError(error)) return new CliError(oneLine(error.message), ExitCode.failed);
  if (isInvalidArgumentError(error)) {
    // The library names its option; the user gave --url (or an environment variable).
    const message = error.argument === 'connectionString' ? `${context.urlSource ?? '--url'}${error.message.slice(error.argument.length)}` : error.message;
    return new CliError(oneLine(message), ExitCode.usage);
  }
  if (isSchemaMissingError(error)) return new CliError(`Message DB is not installed in ${where}; install it with ${install}`, ExitCode.schemaMissing);
  if (isDatabaseMissingError(error)) {
    return new CliError(`the database of ${where} does not exist: create it (createdb), then install Message DB with ${install}`, ExitCode.unavailable);
  }
  if (isAuthenticationError(error)) return new CliError(oneLine(error.message), ExitCode.unavailable);
  if (isDeadlockError(error) || isStatementTimeoutError(error)) return new CliError(`the database refused: ${oneLine(error.message)}`, ExitCode.failed);
  if (isConnectionError(error) || isPoolTimeoutError(error)) {
    return new CliError(`cannot reach ${where}: ${oneLine(connectionDetail(error))}`, ExitCode.unavailable);
  }
  if (isAbortError(error)) return new CliError('interrupted', ExitCode.interrupted);
  if (isDataDirLockedError(error)) {
    const { holder } = error;
    const who = holder === undefined ? 'another opener' : `process ${holder.pid} on ${holder.hostname} (${holder.command}) since ${holder.since}`;
    return new CliError(
      `the embedded database in ${where} is in use by ${who} (PGlite allows one opener at a time; use a PostgreSQL server with --url to share a database)`,
      ExitCode.unavailable,
    );
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && isConnectRefusal(code)) {
      return new CliError(`cannot connect to ${where}: ${oneLine(error.message)}`, ExitCode.unavailable);
    }
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      return new CliError(`the database refused: ${oneLine(error.message)} (SQLSTATE ${code})`, ExitCode.failed);
    }
    return new CliError(`unexpected error: ${oneLine(error.message)} (set MESSAGEDB_DEBUG=1 for details)`, ExitCode.failed);
  }
  return new CliError(`unexpected error: ${oneLine(String(error))}`, ExitCode.failed);
}
