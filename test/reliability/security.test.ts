/**
 * Security: every SQL value is a bound parameter (the source is scanned for SQL built from
 * anything but constant text), the raw `condition` is refused unless the client opts in (and what
 * it can do once allowed), and a password never shows in an error, a cause, a stack, a log line, a
 * metric, `toString()` or `inspect()`, whatever fails.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import {
  Consumer,
  ConditionNotEnabledError,
  InvalidArgumentError,
  MessageDbClient,
  isConnectionError,
  isMessageDbError,
  isPoolTimeoutError,
  isStatementTimeoutError,
  type Logger,
} from '../../src/index.ts';
import { adminQuery, createDatabase, onFileEnd, postgresClient, randomCategory, type TestDatabase } from '../support/databases.ts';
import { holdCategoryLock } from '../support/category-lock.ts';
import { startFaultProxy } from '../support/reliability-proxy.ts';
import { looksLikeSql, scanSource } from '../support/reliability-sql-scan.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { freePort } from '../support/test-server.ts';

/**
 * The only expressions interpolated into SQL text in src/, each reviewed: none carries a value
 * from a caller. A new interpolation fails the test until it is reviewed and listed here with its
 * reason; better, make the value a bound parameter (`$n`) in sql.ts.
 */
const reviewedInterpolations: Record<string, Record<string, string>> = {
  'vocabulary/sql.ts': {
    messageColumns: 'a constant column list',
    indexOrderedName: "a constant: the parameter $1 behind set_config('enable_sort', 'off', true)",
    'quoteIdentifier(channel)': 'LISTEN takes an identifier, which cannot be a parameter: quoted, with inner quotes doubled',
    notifyFunctionName: 'a constant',
    notifyTriggerName: 'a constant',
    conditionOn: 'a constant: set_config calls that turn message_store.sql_condition on for the filtered read',
    conditionBefore: 'a constant: the CTE that keeps message_store.sql_condition as the filtered read found it',
    conditionRestored: 'a constant: the UNION ALL branch that puts message_store.sql_condition back after the filtered read',
  },
  'vocabulary/condition.ts': {
    "literals.join(', ')":
      'message types, each written by quoteLiteral, the one reviewed escaping function (property-tested in test/integration/messages-filters.test.ts)',
    'quoteLiteral(validate.text(argument, field), argument)': 'a data field name, written by quoteLiteral',
    'quoteLiteral(jsonText(fieldArgument, value), fieldArgument)': "a data value's JSON text, written by quoteLiteral",
  },
  'consumer/notify-trigger.ts': {
    'sql.installNotifyTrigger': 'a constant script from sql.ts',
    'sql.uninstallNotifyTrigger': 'a constant script from sql.ts',
  },
  'store/install.ts': { installLockKey: 'a numeric constant' },
  'console/console-statements.ts': {
    isoTime: 'a constant: the to_char expression that writes a message time as ISO 8601 UTC',
    messageColumns: 'a constant column list',
    'categoriesAfter()': 'a constant: the loose index scan over the category index, whose bounds are the parameters $1 and $2',
    "isoTime.replace('time', 'l.time')": 'a constant: the same to_char expression over a qualified column',
  },
  'cli/bench/bench-database.ts': {
    name: "the bench database's name, made right there from a constant prefix and random hex (CREATE/DROP DATABASE take an identifier)",
  },
  'cli/bench.ts': { role: 'the text of an error message that tells a person which ALTER ROLE to run; never executed' },
  'cli/bench/pgbench.ts': { index: "a loop counter (1-100) in a pgbench script's text, which pgbench runs, not the client" },
};

function sourceFiles(): Array<{ name: string; source: string }> {
  return readdirSync('src', { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => ({ name: name.replaceAll('\\', '/'), source: readFileSync(join('src', name), 'utf8') }));
}

describe('SQL is never built from runtime values', () => {
  test('no SQL text in src/ interpolates or concatenates anything but the reviewed constants', () => {
    const found: string[] = [];
    const used = new Set<string>();
    for (const { name, source } of sourceFiles()) {
      const { templates, concatenations } = scanSource(source);
      for (const template of templates) {
        // condition.ts writes WHERE fragments (a filter's condition), without the keywords looksLikeSql knows.
        const conditionFragment = name === 'vocabulary/condition.ts' && /\bIN \(|data->/.test(template.text);
        if (template.expressions.length === 0 || !(looksLikeSql(template.text) || conditionFragment)) continue;
        for (const expression of template.expressions) {
          if (reviewedInterpolations[name]?.[expression] !== undefined) used.add(`${name} ${expression}`);
          else found.push(`src/${name}:${template.line} interpolates \${${expression}} into SQL`);
        }
      }
      for (const { line, literal } of concatenations) {
        if (looksLikeSql(literal)) found.push(`src/${name}:${line} concatenates SQL text ${literal.slice(0, 40)}`);
      }
    }
    assert.deepEqual(found, [], 'SQL built from something that may carry a value: bind it as a parameter instead');
    const stale = Object.entries(reviewedInterpolations)
      .flatMap(([file, entries]) => Object.keys(entries).map((e) => `${file} ${e}`))
      .filter((e) => !used.has(e));
    assert.deepEqual(stale, [], 'reviewed interpolations that no longer exist (remove them from the list)');
  });

  test('the scan sees SQL built by interpolation or concatenation, and not SQL-looking comments, strings or regular expressions', () => {
    const { templates, concatenations } = scanSource(
      [
        "await client.query(`SELECT * FROM t WHERE a = '${value}' AND b = ${other.id}`)",
        "const text = 'DELETE FROM t WHERE id = ' + id",
        '// `SELECT ${commented}`',
        "const quoted = '`SELECT ${quoted}`'",
        'const pattern = /`SELECT ${x}`/g',
        'const nested = `${flag ? `UPDATE t SET a = ${inner}` : "x"}`',
      ].join('\n'),
    );
    const interpolated = templates.filter((t) => t.expressions.length > 0 && looksLikeSql(t.text)).flatMap((t) => t.expressions);
    assert.deepEqual(interpolated.sort(), ['inner', 'other.id', 'value']);
    assert.deepEqual(
      concatenations.filter((c) => looksLikeSql(c.literal)).map((c) => c.line),
      [2],
    );
  });

  test('the constants interpolated into SQL are literals', () => {
    const sql = readFileSync('src/vocabulary/sql.ts', 'utf8');
    for (const constant of ['messageColumns', 'notifyFunctionName', 'notifyTriggerName']) {
      assert.match(sql, new RegExp(`const ${constant} =\\s*(['"\`])[^$'"\`]*\\1`), `${constant} is a literal`);
    }
    assert.match(readFileSync('src/store/install.ts', 'utf8'), /const installLockKey = [\d_]+;/);
  });
});

describe('the raw condition', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createDatabase();
    await postgresClient({}, database);
  });

  test('is refused before any SQL unless the client allows it, even where the database enables sql_condition', async () => {
    await adminQuery(`ALTER DATABASE ${database.name} SET message_store.sql_condition = on`);
    const client = await MessageDbClient.connect(database.url);
    onFileEnd(() => client.close());
    const closed = await MessageDbClient.connect(database.url);
    await closed.close();
    const category = randomCategory();
    await client.writeMessage({ streamName: `${category}-1`, type: 'T' });
    for (const target of [closed, client]) {
      await assert.rejects(target.getStreamMessages(`${category}-1`, { condition: 'true' }), ConditionNotEnabledError);
      await assert.rejects(target.getCategoryMessages(category, { condition: "type = 'T'" }), ConditionNotEnabledError);
    }
    const consumer = new Consumer(client, { category, condition: 'true' }).onAny(() => {});
    await assert.rejects(consumer.start(), ConditionNotEnabledError, 'a consumer with a condition fails at its first read');
  });

  test('once allowed, it runs as raw SQL inside the server query and can read tables other than messages (why it is off by default)', async () => {
    await adminQuery('CREATE TABLE public.secrets (value text); INSERT INTO public.secrets VALUES ($$hunter2$$)', [], database.url);
    const client = await MessageDbClient.connect({ connectionString: database.url, allowCondition: true });
    onFileEnd(() => client.close());
    const category = randomCategory();
    await client.writeMessage({ streamName: `${category}-1`, type: 'T' });
    const probe = (guess: string): Promise<number> =>
      client.getCategoryMessages(category, { condition: `EXISTS (SELECT 1 FROM public.secrets WHERE value = '${guess}')` }).then((m) => m.length);
    assert.equal(await probe('wrong'), 0);
    assert.equal(await probe('hunter2'), 1, 'the condition read another table');
  });
});

describe('credentials', () => {
  test('a password never shows in errors, causes, stacks, log lines, metrics, toString or inspect, whatever fails', async () => {
    const database = await createDatabase();
    await postgresClient({}, database);
    const role = `mdbsec_${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(9).toString('hex')}`;
    const wrongPassword = `wrong-${randomBytes(9).toString('hex')}`;
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' IN ROLE message_store`);
    onFileEnd(() => adminQuery(`DROP ROLE IF EXISTS ${role}`));
    const target = new URL(database.url);
    const url = (options: { password?: string; port?: number | string; query?: string } = {}): string =>
      `postgres://${role}:${encodeURIComponent(options.password ?? password)}@127.0.0.1:${options.port ?? target.port}${target.pathname}${options.query ?? ''}`;

    const logged: string[] = [];
    const record =
      (level: string) =>
      (fields: Record<string, unknown>, message: string): void =>
        void logged.push(`${level} ${message} ${JSON.stringify(fields)}`);
    const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
    const shown: string[] = [];
    const show = (value: unknown): void => {
      shown.push(String(value), inspect(value, { depth: Infinity, showHidden: true }), JSON.stringify(value) ?? '');
      for (let error = value; error instanceof Error; error = error.cause) shown.push(error.stack ?? '', String(error.message));
    };
    const failure = async (work: () => Promise<unknown>): Promise<unknown> => {
      const error = await work().then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      show(error);
      return error;
    };

    // Connecting: a wrong password, a refused port, malformed URLs.
    await failure(() => MessageDbClient.connect({ connectionString: url({ password: wrongPassword }), logger }));
    assert.ok(isConnectionError(await failure(() => MessageDbClient.connect({ connectionString: url({ port: 1 }), connectTimeoutMs: 1000, logger }))));
    const freeUrl = url({ port: await freePort() });
    assert.ok(isConnectionError(await failure(() => MessageDbClient.connect({ connectionString: freeUrl, connectTimeoutMs: 1000, logger }))));
    for (const malformed of [
      url({ port: 99999 }),
      url({ port: 'x' }),
      `postgres://${role}:${password}@[::1/db`,
      `postgres://${role}@127.0.0.1:5432/db?password=${password}&port=x`,
    ]) {
      const error = await failure(() => MessageDbClient.connect({ connectionString: malformed, connectTimeoutMs: 1000, logger }));
      assert.ok(error instanceof InvalidArgumentError && error.argument === 'connectionString', String(error));
    }

    // An open client through a proxy: the server goes away, a statement times out, the pool is full.
    const proxy = await startFaultProxy('127.0.0.1', Number(target.port));
    onFileEnd(() => proxy.close());
    const client = await MessageDbClient.connect({
      connectionString: url({ port: proxy.port, query: `?application_name=mdbsec&password=${password}` }),
      logger,
      metrics: true,
      maxPoolSize: 1,
      connectTimeoutMs: 500,
      statementTimeoutMs: 300,
      retry: { maxAttempts: 3, initialDelayMs: 10 },
    });
    onFileEnd(() => client.close());
    const category = randomCategory();
    await client.writeMessage({ streamName: `${category}-1`, type: 'T' });
    proxy.down();
    assert.ok(isConnectionError(await failure(() => client.getCategoryMessages(category))));
    proxy.up();
    const holder = new pg.Client({ connectionString: database.url, options: '-c search_path=message_store,public' });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(hash_64($1))', [category]);
    assert.ok(isStatementTimeoutError(await failure(() => client.writeMessage({ streamName: `${category}-2`, type: 'T' }))));
    let release!: () => void;
    const holding = client.transaction(() => new Promise<void>((resolve) => (release = resolve)));
    assert.ok(isPoolTimeoutError(await failure(() => client.streamVersion(`${category}-1`))));
    release();
    await holding;
    await holder.query('COMMIT');
    await holder.end();
    show(client);
    shown.push(await client.metrics().metrics());

    assert.ok(
      logged.some((line) => line.includes('connection_fault')),
      'the faults were logged',
    );
    const everything = [...shown, ...logged].join('\n');
    for (const secret of [password, wrongPassword, encodeURIComponent(password)])
      assert.ok(!everything.includes(secret), `a password showed up:\n${everything.split('\n').find((line) => line.includes(secret))}`);
    assert.match(String(client), /\*\*\*/);
  });
});

describe('what error messages contain', () => {
  test('data, metadata and conditions never show in the message of any error a write or read fails with', async () => {
    const database = await createDatabase();
    const client = await postgresClient({ allowCondition: true, statementTimeoutMs: 500, retry: { maxAttempts: 1 } }, database);
    const refusing = await MessageDbClient.connect(database.url);
    onFileEnd(() => refusing.close());
    const target = new URL(database.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    onFileEnd(() => proxy.close());
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    const cut = await MessageDbClient.connect({ connectionString: viaProxy.toString(), retry: { maxAttempts: 1 } });
    onFileEnd(() => cut.close());

    const secret = `s3cr3t${randomBytes(6).toString('hex')}`;
    const category = randomCategory();
    const streamName = `${category}-1`;
    const data = { note: secret };
    const metadata = { note: secret };
    const id = randomUUID();
    await client.writeMessage({ id, streamName, type: 'Opened', data: { n: secret }, metadata });

    const failures: Array<[string, () => Promise<unknown>]> = [
      ['expected version', () => client.writeMessage({ streamName, type: 'T', data, metadata, expectedVersion: 5 })],
      ['duplicate id', () => client.writeMessage({ id, streamName: `${category}-2`, type: 'T', data, metadata })],
      ['data with a BigInt', () => client.writeMessage({ streamName, type: 'T', data: { note: secret, n: 1n }, metadata })],
      ['data with a NUL', () => client.writeMessage({ streamName, type: 'T', data: { note: `${secret}\u0000` }, metadata })],
      ['data with a lone surrogate', () => client.writeMessage({ streamName, type: 'T', data: { note: `${secret}\ud800` } })],
      ['metadata as an array', () => client.writeMessage({ streamName, type: 'T', data, metadata: [secret] as never })],
      ['metadata with a BigInt', () => client.writeMessages([{ streamName, type: 'T', data, metadata: { note: secret, n: 1n } }])],
      [
        'a category lock held past statementTimeoutMs',
        async () => {
          const lock = await holdCategoryLock(database.url, category);
          try {
            return await client.writeMessage({ streamName, type: 'T', data, metadata });
          } finally {
            await lock.release();
          }
        },
      ],
      [
        'a lost connection',
        async () => {
          await cut.streamVersion(streamName);
          proxy.cutAfterNextReply();
          return cut.writeMessages([{ streamName, type: 'T', data, metadata }]);
        },
      ],
      ['a condition on a client that does not allow it', () => refusing.getStreamMessages(streamName, { condition: `data->>'note' = '${secret}'` })],
      ['a condition the server cannot parse', () => client.getCategoryMessages(category, { condition: `data->>'note' = '${secret}' ==` })],
      ['a condition that fails on message data', () => client.getStreamMessages(streamName, { condition: "(data->>'n')::int = 1" })],
      [
        'a condition that runs past statementTimeoutMs',
        () => client.getStreamMessages(streamName, { condition: `pg_sleep(2) IS NOT NULL AND data->>'note' = '${secret}'` }),
      ],
    ];
    for (const [what, work] of failures) {
      const error = await work().then(
        () => assert.fail(`${what}: expected a failure`),
        (e: unknown) => e,
      );
      assert.ok(isMessageDbError(error), `${what}: a typed error (${String(error)})`);
      // The error itself: its text and its own properties (its `cause`, the driver's error, is left as the driver made it).
      const shown = [String(error), error.stack ?? '', JSON.stringify(error)].join('\n');
      assert.ok(!shown.includes(secret), `${what}: the error shows data, metadata or a condition:\n${shown}`);
    }
  });
});
