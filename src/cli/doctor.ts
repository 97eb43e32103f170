/**
 * `messagedb doctor`: the findings of `diagnose()` (src/doctor/) on the target, worst first, each
 * with its advice and the section of docs/tuning.md behind it; `--json` prints one finding a line.
 * It only reads (a new embedded database is not even installed). Exit 0, or with `--strict` 1 when
 * a warning or an error was found.
 */
import type { Command } from 'commander';
import { diagnose } from '../doctor/diagnose.js';
import type { Finding, FindingSeverity } from '../doctor/finding.js';
import { CliError, ExitCode } from './cli-error.js';
import { addFormatOptions, addTargetOptions, examples, integerOption } from './options.js';
import { withClient, type CliContext, type CommonOptions } from './with-target.js';

const rank: Record<FindingSeverity, number> = { error: 0, warning: 1, info: 2 };

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** A finding as lines on a terminal: severity, code and subject, then what was seen, the advice and the link. */
function findingLines(finding: Finding): string[] {
  return [
    `${finding.severity.toUpperCase().padEnd(7)} ${finding.code}  ${finding.subject}`,
    `        ${finding.detail}`,
    `        advice: ${finding.advice}`,
    `        see ${finding.link}`,
    '',
  ];
}

function summary(findings: readonly Finding[]): string {
  const of = (severity: FindingSeverity): number => findings.filter((finding) => finding.severity === severity).length;
  return `${plural(of('error'), 'error')}, ${plural(of('warning'), 'warning')}, ${of('info')} info`;
}

type DoctorOptions = CommonOptions & { strict?: boolean; lagMessages?: number; positionRecords?: number; maxCategories?: number };

/** Adds `messagedb doctor` to the program. */
export function registerDoctor(program: Command, context: CliContext): void {
  const command = program
    .command('doctor')
    .description('check a store against the tuning guide: consumer lag, stale statistics, position streams, large messages, lock waits, settings (read-only)')
    .option('--strict', 'exit 1 when a warning or an error is found')
    .option('--lag-messages <n>', 'a consumer this many messages behind is lagging (default 1000)', integerOption(1))
    .option('--position-records <n>', 'a position or snapshot stream with more records has grown (default 200)', integerOption(1))
    .option('--max-categories <n>', 'survey at most this many categories (default 10000)', integerOption(1))
    .addHelpText('after', examples('messagedb doctor', 'messagedb doctor --url postgres://localhost/message_store --strict', 'messagedb doctor --json'));
  addFormatOptions(addTargetOptions(command)).action(async (options: DoctorOptions) => {
    const findings = await withClient(
      context,
      options,
      async ({ client }, output) => {
        const found = await diagnose(client, {
          signal: context.signal,
          lagMessages: options.lagMessages,
          positionRecords: options.positionRecords,
          maxCategories: options.maxCategories,
        });
        const sorted = [...found].sort((a, b) => rank[a.severity] - rank[b.severity]);
        if (output.format === 'json') await output.records(sorted);
        else await output.lines([...sorted.flatMap(findingLines), summary(sorted)]);
        return sorted;
      },
      { install: false },
    );
    const serious = findings.filter((finding) => finding.severity !== 'info').length;
    if (options.strict === true && serious > 0) {
      throw new CliError(`doctor found ${serious === 1 ? '1 warning or error' : `${serious} warnings or errors`} (--strict)`, ExitCode.failed);
    }
  });
}
