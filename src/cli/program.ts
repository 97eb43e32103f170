/**
 * The `messagedb` program: its commands, and the one place errors become a line on stderr and an
 * exit code. Ctrl-C aborts the running command through an AbortSignal; a second Ctrl-C exits at once.
 */
import { Command, CommanderError } from 'commander';
import { registerBench } from './bench.js';
import { ExitCode, toCliError } from './cli-error.js';
import { registerConsole } from './console.js';
import { registerConsumers } from './consumers.js';
import { registerDeadLetters } from './dead-letters.js';
import { registerDemo } from './demo.js';
import { registerDoctor } from './doctor.js';
import { registerInstall } from './install.js';
import { registerLast } from './last.js';
import { registerPositions } from './positions.js';
import { examples } from './options.js';
import { registerRead } from './read.js';
import { registerStats } from './stats.js';
import { registerTail } from './tail.js';
import { packageVersion, registerVersion } from './version.js';
import { registerWrite } from './write.js';
import type { CliContext } from './with-target.js';

const targetHelp = `
Database: --url, else $MESSAGE_DB_URL, else $DATABASE_URL, else an embedded PostgreSQL (PGlite) in
./.messagedb, created and installed on first use (--data-dir picks another directory). Output: a table
on a terminal, NDJSON when piped or with --json. Exit codes: 0 ok, 1 refused or failed, 2 bad input,
3 no such stream or category, 4 database unreachable, 5 Message DB not installed, 130 interrupted.
`;

function createProgram(context: CliContext): Command {
  const program = new Command('messagedb')
    .description('Message DB from the command line: install, write, read, tail, inspect and benchmark, on a server or embedded')
    .version(packageVersion(), '-V, --version', "print messagedb's version")
    .showSuggestionAfterError()
    .exitOverride()
    // One line, like every other error: commander puts its suggestion on a second one.
    .configureOutput({
      outputError: (text, write) =>
        write(
          `messagedb: ${text
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    })
    .addHelpText(
      'after',
      targetHelp +
        examples(
          'npm start                                  # the demo: a bank-account consumer group, embedded',
          'messagedb install --url postgres://postgres@localhost/message_store',
          `messagedb write account-123 Deposited '{"amount": 10}'`,
          'messagedb read account --limit 20',
          'messagedb stats',
        ),
    );
  registerInstall(program, context);
  registerVersion(program, context);
  registerWrite(program, context);
  registerRead(program, context);
  registerTail(program, context);
  registerLast(program, context);
  registerStats(program, context);
  registerConsumers(program, context);
  registerDeadLetters(program, context);
  registerPositions(program, context);
  registerConsole(program, context);
  registerDoctor(program, context);
  registerDemo(program, context);
  registerBench(program, context);
  return program;
}

/**
 * A signal this soon after the first is the same Ctrl-C, delivered twice: the terminal sends SIGINT
 * to every process of the foreground job, and `npx`/`npm exec` also forward the one they got to the
 * command (13 ms later, measured), which would otherwise read it as a second Ctrl-C and exit 130.
 */
const sameInterruptMs = 1000;

/** Run the command line `argv` (as process.argv: node, script, arguments...); returns the exit code. */
export async function run(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  const controller = new AbortController();
  let interruptedAt = 0;
  const onInterrupt = (): void => {
    if (!controller.signal.aborted) {
      interruptedAt = performance.now();
      controller.abort();
    } else if (performance.now() - interruptedAt >= sameInterruptMs) {
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    await createProgram({ signal: controller.signal, env, cwd }).parseAsync(argv);
    return ExitCode.ok;
  } catch (error) {
    // Commander has already printed its own message (or the help, or the version).
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    const failure = toCliError(error);
    process.stderr.write(`messagedb: ${failure.message}\n`);
    if (env.MESSAGEDB_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return failure.exitCode;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}
