/**
 * The error tree: one base class with a stable `code`, and small subclasses only where callers
 * branch. Guards check a `Symbol.for` brand, so they work across two installed copies of the package.
 * Messages may name identifiers (stream names, categories, message ids, types, positions), which callers
 * need to diagnose; never message data, metadata, a condition or credentials (docs/security.md).
 */
import { hostname } from 'node:os';

const brand = Symbol.for('messagedb.error');

/** Every stable error code this package throws. */
export type MessageDbErrorCode =
  | 'EXPECTED_VERSION'
  | 'DUPLICATE_MESSAGE_ID'
  | 'INVALID_ARGUMENT'
  | 'CONDITION_NOT_ENABLED'
  | 'CONNECTION'
  | 'POOL_TIMEOUT'
  | 'STATEMENT_TIMEOUT'
  | 'SCHEMA_MISSING'
  | 'CLOSED'
  | 'ABORTED'
  | 'ROLLED_BACK'
  | 'UNSAFE_INTEGER'
  | 'HANDLER'
  | 'CONSUMER'
  | 'DATA_DIR_LOCKED'
  | 'DEADLOCK'
  | 'AUTHENTICATION'
  | 'DATABASE_MISSING'
  | 'WOULD_DEADLOCK'
  | 'UNDECODABLE_VALUE'
  | 'PROJECTION'
  | 'INVALID_MESSAGE'
  | 'UNREADABLE_MESSAGE'
  | 'PERMISSION_DENIED';

/** Base class of every error raised by messagedb. `code` is stable across versions. */
export class MessageDbError extends Error {
  readonly code: MessageDbErrorCode;

  constructor(message: string, code: MessageDbErrorCode, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, brand, { value: code });
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** `write_message` found a stream version other than the one the caller expected. */
export class ExpectedVersionError extends MessageDbError {
  constructor(
    readonly streamName: string,
    readonly expectedVersion: number,
    readonly streamVersion: number,
    options?: { cause?: unknown },
  ) {
    super(`Wrong expected version: ${expectedVersion} (Stream: ${streamName}, Stream Version: ${streamVersion})`, 'EXPECTED_VERSION', options);
  }
}

const conflictBrand = Symbol.for('messagedb.entityConflict');

/**
 * An entity store's `handle` was refused for a wrong expected version on every attempt it was
 * allowed. It is an ExpectedVersionError (the last one), with the number of attempts made.
 */
export class EntityConflictError extends ExpectedVersionError {
  constructor(
    streamName: string,
    expectedVersion: number,
    streamVersion: number,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(streamName, expectedVersion, streamVersion, options);
    this.message += `; gave up after ${attempts} attempts`;
    Object.defineProperty(this, conflictBrand, { value: true });
  }
}

/** A projection function threw while applying a message to an entity; `cause` is what it threw. */
export class ProjectionError extends MessageDbError {
  constructor(
    readonly streamName: string,
    readonly position: number,
    readonly type: string,
    options?: { cause?: unknown },
  ) {
    const thrown = options?.cause instanceof Error ? options.cause.name : typeof options?.cause;
    super(`The projection of ${type} (Stream: ${streamName}, Position: ${position}) threw ${thrown}`, 'PROJECTION', options);
  }
}

/** A message id is already used by a different message (the `messages_id` index is global). */
export class DuplicateMessageIdError extends MessageDbError {
  constructor(
    readonly messageId: string,
    options?: { cause?: unknown },
  ) {
    super(`Message id ${messageId} is already used by another message`, 'DUPLICATE_MESSAGE_ID', options);
  }
}

/** An argument was rejected before any SQL ran; `argument` names it. */
export class InvalidArgumentError extends MessageDbError {
  constructor(
    readonly argument: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${argument} ${problem}`, 'INVALID_ARGUMENT', options);
  }
}

/** A `condition` was passed, but the client was not created with `allowCondition: true`. */
export class ConditionNotEnabledError extends MessageDbError {
  constructor(options?: { cause?: unknown }) {
    super(
      'condition is raw SQL appended to the query and is refused unless the client is created with ' +
        '{ allowCondition: true } (it also needs the server setting message_store.sql_condition)',
      'CONDITION_NOT_ENABLED',
      options,
    );
  }
}

/**
 * The database could not be reached, or the connection was lost and retries ran out.
 *
 * A write that fails this way may still have committed: the connection can be lost after the server
 * committed and before its answer arrived. `messageIds` holds the ids the failed write used (the
 * caller's or generated ones), so writing the same messages again with these ids is safe: a
 * message already stored is found as itself instead of being stored twice.
 */
export class ConnectionError extends MessageDbError {
  /** The ids of the messages a failed write sent, in order; undefined for anything but a write. */
  readonly messageIds: readonly string[] | undefined;

  constructor(message: string, options?: { cause?: unknown; messageIds?: readonly string[] | undefined }) {
    super(message, 'CONNECTION', options);
    this.messageIds = options?.messageIds;
  }
}

/** No pooled connection became free within `connectTimeoutMs`. */
export class PoolTimeoutError extends MessageDbError {
  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(`No pooled connection became free within ${timeoutMs} ms`, 'POOL_TIMEOUT', options);
  }
}

/** The server cancelled a statement that ran longer than `statementTimeoutMs`. */
export class StatementTimeoutError extends MessageDbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'STATEMENT_TIMEOUT', options);
  }
}

/** The `message_store` schema (Message DB) is not installed in this database. */
export class SchemaMissingError extends MessageDbError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `Message DB is not installed in this database (${detail}). Install it with \`await client.install()\` or \`npx messagedb install\`.`,
      'SCHEMA_MISSING',
      options,
    );
  }
}

/** The client or transaction was used after it was closed. */
export class ClosedError extends MessageDbError {
  constructor(what: string) {
    super(`${what} is closed`, 'CLOSED');
  }
}

/** The caller's AbortSignal fired. */
export class AbortError extends MessageDbError {
  constructor(options?: { cause?: unknown }) {
    super('The operation was aborted', 'ABORTED', options);
  }
}

/**
 * A transaction was rolled back instead of committed: a statement in it failed (`cause`), which
 * aborted it, although the callback caught that error and returned. Nothing it wrote was stored.
 */
export class TransactionRolledBackError extends MessageDbError {
  constructor(options?: { cause?: unknown }) {
    super('The transaction was rolled back, not committed: a statement in it failed (see cause)', 'ROLLED_BACK', options);
  }
}

/** A position or count from the server is larger than `Number.MAX_SAFE_INTEGER`. */
export class UnsafeIntegerError extends MessageDbError {
  constructor(column: string, value: string) {
    super(`${column} ${value} is larger than Number.MAX_SAFE_INTEGER`, 'UNSAFE_INTEGER');
  }
}

/**
 * A column from the server is not in the form the client reads, so no value is made up for it: a
 * `time` that is not ISO timestamp text (the session's DateStyle was changed, say by `SET DateStyle`).
 */
export class UndecodableValueError extends MessageDbError {
  constructor(
    readonly column: string,
    value: string,
    problem: string,
  ) {
    super(`${column} ${JSON.stringify(value.slice(0, 40))} cannot be read: ${problem}`, 'UNDECODABLE_VALUE');
  }
}

/** Who holds an embedded database directory, as written in its lock file. */
export interface DataDirHolder {
  pid: number;
  hostname: string;
  /** When the holder took the lock (ISO 8601). */
  since: string;
  /** The holder's command line, shortened. */
  command: string;
}

/**
 * An embedded (PGlite) database directory is already open, in this process or another. PGlite is a
 * single-user server: two openers of one directory overwrite each other's files and lose writes.
 */
export class DataDirLockedError extends MessageDbError {
  constructor(
    readonly dataDir: string,
    readonly holder: DataDirHolder | undefined,
    options?: { cause?: unknown },
  ) {
    const who =
      holder === undefined
        ? 'another opener'
        : holder.pid === process.pid && holder.hostname === hostname()
          ? `this process (pid ${holder.pid}) through another client, since ${holder.since}`
          : `process ${holder.pid} on ${holder.hostname} (${holder.command}), since ${holder.since}`;
    super(
      `The embedded database in ${dataDir} is already open by ${who}. PGlite allows one opener at a time: ` +
        'close that client first, or share the database through a PostgreSQL server.',
      'DATA_DIR_LOCKED',
      options,
    );
  }
}

/**
 * The server broke a deadlock by rolling back this statement (SQLSTATE 40P01), and retries ran out
 * (or it happened inside a transaction, which is never retried). Nothing the statement wrote was
 * committed.
 */
export class DeadlockError extends MessageDbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'DEADLOCK', options);
  }
}

/** The server refused the credentials (wrong password, unknown role, no pg_hba.conf entry). `target` is redacted. */
export class AuthenticationError extends MessageDbError {
  constructor(
    readonly target: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`The server at ${target} refused the credentials: ${problem}`, 'AUTHENTICATION', options);
  }
}

/** The database named in the connection target does not exist on the server. `target` is redacted. */
export class DatabaseMissingError extends MessageDbError {
  constructor(
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super(`The database at ${target} does not exist (create it, then run \`npx messagedb install\`)`, 'DATABASE_MISSING', options);
  }
}

/**
 * A call on the client was made inside the client's own `transaction()` callback on an engine with
 * one connection (PGlite): it would wait for the transaction it is part of, forever. Use the
 * callback's `tx` instead.
 */
export class WouldDeadlockError extends MessageDbError {
  constructor(options?: { cause?: unknown }) {
    super(
      "The client was called inside its own transaction() callback; PGlite has one connection, so this call would wait for that transaction forever. Use the callback's tx.",
      'WOULD_DEADLOCK',
      options,
    );
  }
}

function hasCode(error: unknown, code?: MessageDbErrorCode): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const branded = (error as Record<symbol, unknown>)[brand];
  return typeof branded === 'string' && (code === undefined || branded === code);
}

/**
 * The session's role lacks a privilege the call needs, found before it changed anything: for example
 * `compactPositions` under a role that may not DELETE from message_store.messages, as Message DB's
 * own `message_store` role may not. `privilege` names what is missing.
 */
export class PermissionDeniedError extends MessageDbError {
  constructor(
    readonly privilege: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'PERMISSION_DENIED', options);
  }
}

/**
 * A consumer was used in a way it does not support (started twice, iterated while handlers are set,
 * ...), or its position stream is not as it expects (see consumer/consumer-errors.ts for the handler's errors).
 */
export class ConsumerError extends MessageDbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CONSUMER', options);
  }
}

/** True when `error` is any messagedb error (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isMessageDbError = (error: unknown): error is MessageDbError => hasCode(error);
/** True when `error` is an `ExpectedVersionError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isExpectedVersionError = (error: unknown): error is ExpectedVersionError => hasCode(error, 'EXPECTED_VERSION');
/** True when `error` is a `DuplicateMessageIdError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isDuplicateMessageIdError = (error: unknown): error is DuplicateMessageIdError => hasCode(error, 'DUPLICATE_MESSAGE_ID');
/** True when `error` is an `InvalidArgumentError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isInvalidArgumentError = (error: unknown): error is InvalidArgumentError => hasCode(error, 'INVALID_ARGUMENT');
/** True when `error` is a `ConditionNotEnabledError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isConditionNotEnabledError = (error: unknown): error is ConditionNotEnabledError => hasCode(error, 'CONDITION_NOT_ENABLED');
/** True when `error` is a `ConnectionError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isConnectionError = (error: unknown): error is ConnectionError => hasCode(error, 'CONNECTION');
/** True when `error` is a `PoolTimeoutError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isPoolTimeoutError = (error: unknown): error is PoolTimeoutError => hasCode(error, 'POOL_TIMEOUT');
/** True when `error` is a `StatementTimeoutError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isStatementTimeoutError = (error: unknown): error is StatementTimeoutError => hasCode(error, 'STATEMENT_TIMEOUT');
/** True when `error` is a `SchemaMissingError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isSchemaMissingError = (error: unknown): error is SchemaMissingError => hasCode(error, 'SCHEMA_MISSING');
/** True when `error` is a `ClosedError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isClosedError = (error: unknown): error is ClosedError => hasCode(error, 'CLOSED');
/** True when `error` is an `AbortError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isAbortError = (error: unknown): error is AbortError => hasCode(error, 'ABORTED');
/** True when `error` is a `TransactionRolledBackError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isTransactionRolledBackError = (error: unknown): error is TransactionRolledBackError => hasCode(error, 'ROLLED_BACK');
/** True when `error` is a `DataDirLockedError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isDataDirLockedError = (error: unknown): error is DataDirLockedError => hasCode(error, 'DATA_DIR_LOCKED');
/** True when `error` is a `DeadlockError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isDeadlockError = (error: unknown): error is DeadlockError => hasCode(error, 'DEADLOCK');
/** True when `error` is an `AuthenticationError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isAuthenticationError = (error: unknown): error is AuthenticationError => hasCode(error, 'AUTHENTICATION');
/** True when `error` is a `DatabaseMissingError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isDatabaseMissingError = (error: unknown): error is DatabaseMissingError => hasCode(error, 'DATABASE_MISSING');
/** True when `error` is a `WouldDeadlockError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isWouldDeadlockError = (error: unknown): error is WouldDeadlockError => hasCode(error, 'WOULD_DEADLOCK');
/** True when `error` is an `UndecodableValueError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isUndecodableValueError = (error: unknown): error is UndecodableValueError => hasCode(error, 'UNDECODABLE_VALUE');
/** True when `error` is a `PermissionDeniedError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isPermissionDeniedError = (error: unknown): error is PermissionDeniedError => hasCode(error, 'PERMISSION_DENIED');
/** True when `error` is a `ConsumerError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isConsumerError = (error: unknown): error is ConsumerError => isMessageDbError(error) && error.code === 'CONSUMER';
/** True when `error` is an `EntityConflictError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isEntityConflictError = (error: unknown): error is EntityConflictError =>
  isExpectedVersionError(error) && (error as unknown as Record<symbol, unknown>)[conflictBrand] === true;
/** True when `error` is a `ProjectionError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isProjectionError = (error: unknown): error is ProjectionError => hasCode(error, 'PROJECTION');
