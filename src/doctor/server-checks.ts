/**
 * The checks on the server and its sessions: `sql-condition-enabled` (a security setting),
 * `hot-category-lock` (sessions waiting on Message DB's category write lock right now) and
 * `server-settings` (what matters to Message DB, as information).
 */
import { hash64 } from '../vocabulary/stream-name.js';
import { numberOf, type Check } from './doctor-context.js';
import { tuningLink, type Finding } from './finding.js';
import { count, duration } from './format.js';
import * as statements from './statements.js';

/** Message DB's test: anything but unset or `off` lets `condition` through (get_category_messages). */
function conditionEnabled(value: string): boolean {
  return value !== '' && value !== 'off';
}

const conditionAdvice = [
  "A condition is SQL spliced into Message DB's read queries: any caller that can read can then run SQL of its choosing.",
  "Turn it off (`ALTER DATABASE ... RESET message_store.sql_condition`, or `ALTER ROLE ... RESET ...`) and filter with the library's safe filters;",
  'clients created with `allowCondition: true` switch it on for their own sessions only.',
].join(' ');

/** `sql-condition-enabled`: `message_store.sql_condition` on for this database, a role, or every session of the server. */
export const sqlConditionEnabled: Check = async (context) => {
  const rows = await context.query(statements.sqlConditionSettings);
  const findings: Finding[] = [];
  for (const row of rows) {
    const value = String(row.value ?? '');
    if (!conditionEnabled(value)) continue;
    const database = String(row.database_name ?? '');
    const role = String(row.role_name ?? '');
    const subject =
      database !== '' && role !== ''
        ? `role ${role} in database ${database}`
        : database !== ''
          ? `database ${database}`
          : role !== ''
            ? `role ${role}`
            : 'every database and role';
    findings.push({
      code: 'sql-condition-enabled',
      severity: 'warning',
      subject,
      detail: `message_store.sql_condition = ${value} is set for ${subject} (pg_db_role_setting)`,
      advice: conditionAdvice,
      link: tuningLink('sql-condition-enabled'),
    });
  }
  if (findings.length > 0) return findings;
  const [session] = await context.query(statements.sessionSqlCondition);
  const value = String(session?.value ?? '');
  if (!conditionEnabled(value)) return [];
  return [
    {
      code: 'sql-condition-enabled',
      severity: 'warning',
      subject: 'this session',
      detail: `message_store.sql_condition = ${value} in the doctor's own session: set in the server's configuration or in the connection's options`,
      advice: conditionAdvice,
      link: tuningLink('sql-condition-enabled'),
    },
  ];
};

/**
 * `hot-category-lock`: sessions waiting for an advisory lock whose key is `hash_64` of a category of
 * the store (Message DB's `acquire_lock`, taken by every write and held to the end of its transaction).
 * A wait longer than `lockWaitMs` is a warning; shorter ones are information.
 */
export const hotCategoryLock: Check = async (context) => {
  const waits = await context.query(statements.advisoryLockWaits);
  if (waits.length === 0) return [];
  const { categories } = await context.survey();
  const byKey = new Map(categories.map((facts) => [hash64(facts.category).toString(), facts.category]));
  const findings: Finding[] = [];
  for (const wait of waits) {
    const category = byKey.get(String(wait.lock_key));
    if (category === undefined) continue;
    const waitingMs = numberOf(wait.waiting_ms);
    const holders = wait.holders === null ? 'no session (it was just released)' : `session ${String(wait.holders)}`;
    const holderAge = numberOf(wait.holder_seconds);
    findings.push({
      code: 'hot-category-lock',
      severity: waitingMs >= context.settings.lockWaitMs ? 'warning' : 'info',
      subject: category,
      detail:
        `session ${String(wait.pid)}${wait.application_name === '' ? '' : ` (${String(wait.application_name)})`} has waited ${duration(waitingMs / 1000)} ` +
        `for the write lock of ${category}, held by ${holders}${Number.isNaN(holderAge) ? '' : ` in a transaction open for ${duration(holderAge)}`}`,
      advice:
        'Writers of one category take turns on its lock until their transaction ends: keep transactions that write short (no slow work or network calls inside), ' +
        'batch writes with writeMessages, and spread hot writes over more categories rather than more connections.',
      link: tuningLink('hot-category-lock'),
    });
  }
  return findings;
};

/** `server-settings`: synchronous_commit, connections in use against max_connections, autovacuum on the messages table. */
export const serverSettings: Check = async (context) => {
  const settings = new Map((await context.query(statements.serverSettings)).map((row) => [String(row.name), String(row.setting)]));
  const findings: Finding[] = [];
  const info = (subject: string, detail: string, advice: string): void => {
    findings.push({ code: 'server-settings', severity: 'info', subject, detail, advice, link: tuningLink('server-settings') });
  };
  const synchronousCommit = settings.get('synchronous_commit');
  if (synchronousCommit !== undefined) {
    info(
      'synchronous_commit',
      `synchronous_commit = ${synchronousCommit}`,
      synchronousCommit === 'off'
        ? 'Commits do not wait for the WAL flush: a crash can lose the last writes acknowledged (never corrupt the store).'
        : 'Each commit waits for the WAL flush, so a single write costs a disk flush: batch writes (writeMessages) to share one.',
    );
  }
  const maxConnections = numberOf(settings.get('max_connections'));
  const connections = Number.isNaN(maxConnections) ? [] : await context.query(statements.connectionsInUse);
  // The doctor's own session is a client backend on any server; none at all is PGlite, one session in-process.
  const embedded = !Number.isNaN(maxConnections) && connections.length === 0;
  if (embedded) {
    info(
      'max_connections',
      'no client connections reported: an embedded server (PGlite), one session in this process',
      'Pool sizes do not apply: statements take turns on the one session. Move to a PostgreSQL server for concurrent writers or several processes.',
    );
  } else if (!Number.isNaN(maxConnections)) {
    const total = connections.reduce((sum, row) => sum + numberOf(row.connections), 0);
    const top = connections
      .slice(0, 5)
      .map((row) => `${String(row.application_name)} ${count(numberOf(row.connections))}`)
      .join(', ');
    info(
      'max_connections',
      `${count(total)} of max_connections ${count(maxConnections)} client connections in use (by application: ${top})`,
      'Every client process keeps up to maxPoolSize connections: their sum must stay under max_connections. ' +
        'More connections do not make writes to one category faster: they wait on its lock.',
    );
  }
  const [table] = await context.query(statements.tableStatistics);
  const tableOptions = String(table?.reloptions ?? '');
  const autovacuum = settings.get('autovacuum');
  if (autovacuum !== undefined || table !== undefined) {
    const tableOff = /autovacuum_enabled=(false|off|0|no)/.test(tableOptions);
    info(
      'autovacuum',
      `autovacuum = ${autovacuum ?? 'unknown'}${tableOff ? ', and turned off for message_store.messages' : ''}${tableOptions === '' ? '' : ` (table options: ${tableOptions})`}`,
      embedded
        ? 'An embedded server runs no autovacuum workers: run ANALYZE message_store.messages after loading many messages.'
        : autovacuum === 'off' || tableOff
          ? 'Without autovacuum, the messages table is never analyzed on its own: run ANALYZE after loads, or turn it back on.'
          : 'Autovacuum analyzes the messages table as it grows; an append-only table needs nothing more.',
    );
  }
  return findings;
};
