/**
 * Options shared by the commands, and parsers that turn option text into checked values. A bad
 * value fails before anything is opened, naming the option and what it got.
 */
import { type Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import type { ConsumerGroup } from '../store/read.js';
import { MAX_CONSUMER_GROUP_SIZE } from '../vocabulary/stream-name.js';
import { usageError } from './cli-error.js';
import { parseExactJson } from './exact-json.js';

/** Adds --url and --data-dir. */
export function addTargetOptions(command: Command): Command {
  return command
    .option('--url <url>', 'PostgreSQL connection string (default: $MESSAGE_DB_URL, then $DATABASE_URL, then the embedded database)')
    .option('--data-dir <dir>', 'use the embedded database (PGlite) in this directory (default: ./.messagedb)', textOption);
}

/** Adds --json and --table. */
export function addFormatOptions(command: Command): Command {
  return command
    .option('--json', 'print NDJSON, one JSON object a line (the default when stdout is not a terminal)')
    .option('--table', 'print a table even when stdout is not a terminal');
}

/**
 * A parser for an integer option from `min` on: decimal digits only (a minus sign where `min` is
 * negative), so `1e3`, `0x1`, `1.0` and ` ` are refused rather than read as Number() reads them.
 */
export function integerOption(min: number): (text: string) => number {
  const shape = min < 0 ? /^-?\d+$/ : /^\d+$/;
  return (text) => {
    const value = Number(text);
    if (!shape.test(text) || !Number.isSafeInteger(value) || value < min) {
      throw new CommanderArgumentError(`must be an integer >= ${min}, in decimal digits (got ${JSON.stringify(text)})`);
    }
    // -0 is 0.
    return value === 0 ? 0 : value;
  };
}

/** A parser for a number option above 0 in decimal notation (fractions allowed: `0.5`, `2`; not `1e3` or `0x1`). */
export function positiveNumberOption(text: string): number {
  const value = Number(text);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text) || !Number.isFinite(value) || value <= 0) {
    throw new CommanderArgumentError(`must be a number > 0, in decimal notation (got ${JSON.stringify(text)})`);
  }
  return value;
}

/** A parser for a text option: a name, a type, a directory. Empty or blank text is refused, not taken as "none". */
export function textOption(text: string): string {
  if (text.trim() === '') throw new CommanderArgumentError(`must not be empty (got ${JSON.stringify(text)})`);
  return text;
}

/**
 * The filters `read` and `tail` share: `--type` (repeatable), `--correlation` and `--group`,
 * the last two for categories only.
 */
export function addMessageFilterOptions(command: Command): Command {
  return command
    .option('--type <type>', 'only messages of this type (repeatable)', (value: string, previous: string[] | undefined) => [
      ...(previous ?? []),
      textOption(value),
    ])
    .option('--correlation <category>', 'category only: messages whose metadata correlationStreamName is in this category', textOption)
    .option('--group <member/size>', 'category only: the share of consumer group member/size, e.g. 0/3', consumerGroupOption);
}

/** `--group member/size`, checked as the server checks it. */
export function consumerGroupOption(text: string): ConsumerGroup {
  const parts = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (parts === null) throw new CommanderArgumentError(`must be member/size, e.g. 0/3 (got ${JSON.stringify(text)})`);
  const member = Number(parts[1]);
  const size = Number(parts[2]);
  if (size < 1 || size > MAX_CONSUMER_GROUP_SIZE) {
    throw new CommanderArgumentError(`size must be from 1 to ${MAX_CONSUMER_GROUP_SIZE} (got ${size})`);
  }
  if (member >= size) throw new CommanderArgumentError(`member must be from 0 to size - 1 (got ${member}/${size})`);
  return { member, size };
}

/**
 * Parse JSON given on the command line; `what` names the argument in the error. A number that a
 * double cannot hold exactly is refused (exact-json.ts).
 */
export function parseJson(what: string, text: string): unknown {
  return parseExactJson(what, text);
}

/** Parse a JSON object (metadata): null is allowed, arrays and scalars are not. */
export function parseJsonObject(what: string, text: string): Record<string, unknown> | null {
  const value = parseJson(what, text);
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw usageError(`${what} must be a JSON object (got ${Array.isArray(value) ? 'an array' : typeof value})`);
  }
  return value as Record<string, unknown> | null;
}

/** An option whose value is one of `choices`. */
export function choiceOption(flags: string, description: string, choices: readonly string[], fallback: string): Option {
  return new Option(flags, description).choices(choices).default(fallback);
}

/** The usual `Examples:` block at the end of a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}
