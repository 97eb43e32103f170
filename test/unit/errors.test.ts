import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConnectionError,
  ExpectedVersionError,
  InvalidArgumentError,
  MessageDbError,
  isConnectionError,
  isExpectedVersionError,
  isInvalidArgumentError,
  isMessageDbError,
} from '../../src/index.ts';
import { fromPostgresError, isConnectionFault, safeText } from '../../src/vocabulary/postgres-error.ts';

test('guards recognise errors by brand, also from another copy of the package', () => {
  const error = new ExpectedVersionError('a-1', 1, 2);
  assert.ok(isExpectedVersionError(error) && isMessageDbError(error));
  assert.ok(!isInvalidArgumentError(error));
  // A structurally identical error from a second copy carries the same Symbol.for brand.
  const foreign = Object.defineProperty(new Error('x'), Symbol.for('messagedb.error'), { value: 'CONNECTION' });
  assert.ok(isConnectionError(foreign));
  assert.ok(!isMessageDbError(new Error('plain')));
});

test('errors carry a stable code, a name and their cause', () => {
  const cause = new Error('root');
  const error = new InvalidArgumentError('batchSize', 'must be positive', { cause });
  assert.equal(error.code, 'INVALID_ARGUMENT');
  assert.equal(error.name, 'InvalidArgumentError');
  assert.equal(error.cause, cause);
  assert.ok(error instanceof MessageDbError);
});

test("connection faults are recognised by SQLSTATE class 08, shutdown codes, socket errors and the driver's codes, never by text", () => {
  assert.ok(isConnectionFault({ code: '57P01', message: 'terminating connection due to administrator command' }));
  assert.ok(isConnectionFault({ code: '08006', message: 'x' }));
  assert.ok(isConnectionFault(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })));
  assert.ok(isConnectionFault(Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' })));
  assert.ok(isConnectionFault({ code: 'CONNECTION_DESTROYED', message: 'x' }));
  assert.ok(!isConnectionFault({ code: 'CONNECT_TIMEOUT', message: 'x' }), 'a connect timeout is not retried');
  assert.ok(!isConnectionFault(new Error('Connection terminated unexpectedly')));
  assert.ok(!isConnectionFault({ code: '23505', message: 'duplicate key' }));
  assert.ok(fromPostgresError(Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' })) instanceof ConnectionError);
  assert.ok(fromPostgresError({ code: 'CONNECT_TIMEOUT', message: 'write CONNECT_TIMEOUT 127.0.0.1:5432' }) instanceof ConnectionError);
});

test('safeText removes passwords from driver texts', () => {
  assert.equal(safeText('at postgres://u:secret@h/db'), 'at postgres://u:***@h/db');
  assert.equal(safeText('password=secret host=x'), 'password=*** host=x');
});
