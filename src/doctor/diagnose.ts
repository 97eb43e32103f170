/**
 * `diagnose()`: read a live store and report what docs/tuning.md would have its user change. Every
 * statement runs in a READ ONLY transaction, so a read-only role (or a hot standby) may run it and
 * nothing is ever written. Shared by `messagedb doctor` and the web console.
 */
import type { MessageDbClient } from '../store/client.js';
import { isAbortError, isClosedError, isConnectionError, isPoolTimeoutError, isSchemaMissingError } from '../vocabulary/errors.js';
import { consumerLag, positionStreamGrowth } from './consumer-checks.js';
import { doctorContext, type Check } from './doctor-context.js';
import { diagnoseSettings, findingCodes, tuningLink, type DiagnoseOptions, type Finding, type FindingCode } from './finding.js';
import { hotCategoryLock, serverSettings, sqlConditionEnabled } from './server-checks.js';
import { largeMessages, staleStatistics } from './store-checks.js';

const checks: Record<FindingCode, Check> = {
  'consumer-lag': consumerLag,
  'stale-statistics': staleStatistics,
  'position-stream-growth': positionStreamGrowth,
  'large-messages': largeMessages,
  'sql-condition-enabled': sqlConditionEnabled,
  'hot-category-lock': hotCategoryLock,
  'server-settings': serverSettings,
};

/** Errors that end the whole diagnosis: the store cannot be read at all, or the caller gave up. */
function isFatal(error: unknown): boolean {
  return isAbortError(error) || isClosedError(error) || isConnectionError(error) || isPoolTimeoutError(error) || isSchemaMissingError(error);
}

/**
 * Check a store against the tuning guide: consumer lag, stale planner statistics, position and
 * snapshot streams that grew, large messages, `message_store.sql_condition` switched on, sessions
 * waiting on a category's write lock, and the server settings that matter (as `info`). Findings
 * come in that order; a healthy store gives only the `server-settings` information.
 *
 * It never scans the messages table (categories are found along the category index, sizes are
 * estimated from each category's newest messages, counts stop at a cap), and never writes: each
 * statement runs in a READ ONLY transaction, so a read-only role can run it. A check the server
 * cannot answer (a catalog view missing on PGlite, a privilege the role lacks) gives one `info`
 * finding saying so instead of failing the rest. Rejects with InvalidArgumentError for a bad option
 * (before any SQL), and with the client's error when the store cannot be read at all.
 *
 * @example
 * const findings = await diagnose(client);
 * for (const finding of findings) console.log(`${finding.severity} ${finding.code} ${finding.subject}: ${finding.detail}`);
 */
export async function diagnose(client: MessageDbClient, options: DiagnoseOptions = {}): Promise<Finding[]> {
  const settings = diagnoseSettings(options);
  const context = doctorContext(client, settings);
  const findings: Finding[] = [];
  // Read first on its own, so a store that cannot be read fails once, with the client's error.
  const survey = await context.survey();
  if (survey.truncated) {
    findings.push({
      code: 'large-messages',
      severity: 'info',
      subject: 'message_store.messages',
      detail: `the store has more than ${settings.maxCategories} categories: only the first ${settings.maxCategories} (by name) were checked`,
      advice: 'Pass a larger maxCategories (`--max-categories`) to check them all.',
      link: tuningLink('large-messages'),
    });
  }
  for (const code of findingCodes) {
    try {
      findings.push(...(await checks[code](context)));
    } catch (error) {
      if (isFatal(error) || settings.signal?.aborted) throw error;
      findings.push({
        code,
        severity: 'info',
        subject: 'doctor',
        detail: `this check could not run on this server: ${error instanceof Error ? error.message : String(error)}`,
        advice: 'Nothing to change in the store; the check needs a catalog view or privilege this server or role does not offer.',
        link: tuningLink(code),
      });
    }
  }
  return findings;
}
