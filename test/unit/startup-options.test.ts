import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/index.ts';
import { mergeStartupOptions, splitOptions, startupOptionsFor, takeOptionsParameter } from '../../src/engine/startup-options.ts';

// What the server reads from the startup `options` (pg_split_opts, then each `-c name=value`) is
// what these tests check the merged text against, so the order of the words matters: a later
// setting of the same name wins on the server.

test('options are split as the server splits them: on whitespace, a backslash escaping the next character', () => {
  assert.deepEqual(splitOptions('  -c a=1   -cb=2\t--c-d=x\\ y  -c e=back\\\\slash '), ['-c', 'a=1', '-cb=2', '--c-d=x y', '-c', 'e=back\\slash']);
  assert.deepEqual(splitOptions(''), []);
});

test("the client's settings come after the user's, so they win; the user's other settings are kept in order", () => {
  assert.equal(mergeStartupOptions(undefined, false), '-c search_path=message_store,public -c DateStyle=ISO');
  assert.equal(
    mergeStartupOptions({ text: '-c statement_timeout=5000 -c lock_timeout=1s', argument: 'connectionString' }, true),
    '-c statement_timeout=5000 -c lock_timeout=1s -c search_path=message_store,public -c DateStyle=ISO -c message_store.sql_condition=on',
  );
});

test("a user's search_path gets message_store first, however the setting is written, and keeps the user's schemas", () => {
  const merged = (text: string): string => mergeStartupOptions({ text, argument: 'connectionString' }, false);
  assert.equal(merged('-c search_path=app,public'), '-c search_path=message_store,app,public -c DateStyle=ISO');
  assert.equal(merged('-csearch_path=public,message_store'), '-csearch_path=message_store,public -c DateStyle=ISO');
  assert.equal(merged('--search-path=MESSAGE_STORE,app'), '--search-path=message_store,app -c DateStyle=ISO');
  assert.equal(merged('-c Search_Path=\\"$user\\",\\ public'), '-c Search_Path=message_store,"$user",public -c DateStyle=ISO');
  assert.equal(merged('-c search_path='), '-c search_path=message_store -c DateStyle=ISO');
  assert.equal(merged('-c search_path=app,\\ "a,b"'), '-c search_path=message_store,app,"a,b" -c DateStyle=ISO');
});

test('a DateStyle whose output is not ISO is refused, naming where it was set; an ISO one with a date order is kept', () => {
  for (const text of ['-c DateStyle=SQL', '-c datestyle=German,\\ DMY', '--DateStyle=Postgres', '-cDATESTYLE=sql,mdy']) {
    assert.throws(
      () => mergeStartupOptions({ text, argument: 'PGOPTIONS' }, false),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'PGOPTIONS' && /DateStyle must be ISO/.test(error.message),
      text,
    );
  }
  assert.equal(
    mergeStartupOptions({ text: '-c DateStyle=ISO,\\ DMY', argument: 'connectionString' }, false),
    '-c DateStyle=ISO,\\ DMY -c search_path=message_store,public -c DateStyle=ISO',
  );
  assert.equal(
    mergeStartupOptions({ text: '-c DateStyle=DMY', argument: 'connectionString' }, false),
    '-c DateStyle=DMY -c search_path=message_store,public -c DateStyle=ISO',
  );
});

test("the connection string's options parameter is taken out of it, every other byte kept", () => {
  assert.deepEqual(takeOptionsParameter('postgres://u:p%40ss@h:5432/db?sslmode=disable&options=-c%20a%3D1&application_name=x%20y#f'), {
    connectionString: 'postgres://u:p%40ss@h:5432/db?sslmode=disable&application_name=x%20y#f',
    options: '-c a=1',
  });
  assert.deepEqual(takeOptionsParameter('postgres://h/db?options=-c+a%3D1'), { connectionString: 'postgres://h/db', options: '-c a=1' });
  assert.deepEqual(takeOptionsParameter('postgres://h/db?options=1&options=-c%20b%3D2'), { connectionString: 'postgres://h/db', options: '-c b=2' });
  assert.deepEqual(takeOptionsParameter('postgres://h/db'), { connectionString: 'postgres://h/db', options: undefined });
});

test("the connection string's options win over PGOPTIONS, as in libpq; PGOPTIONS applies without them", () => {
  const env = { PGOPTIONS: '-c lock_timeout=2s' };
  assert.equal(startupOptionsFor('postgres://h/db?options=-c%20a%3D1', false, env).options, '-c a=1 -c search_path=message_store,public -c DateStyle=ISO');
  assert.equal(startupOptionsFor('postgres://h/db', false, env).options, '-c lock_timeout=2s -c search_path=message_store,public -c DateStyle=ISO');
  assert.equal(startupOptionsFor(undefined, false, env).options, '-c lock_timeout=2s -c search_path=message_store,public -c DateStyle=ISO');
  assert.throws(
    () => startupOptionsFor('postgres://h/db', false, { PGOPTIONS: '-c DateStyle=SQL' }),
    (error: unknown) => error instanceof InvalidArgumentError && error.argument === 'PGOPTIONS',
  );
});
