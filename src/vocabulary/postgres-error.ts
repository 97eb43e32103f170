/**
 * The one place that reads SQLSTATEs and the server's error texts. Only what is recognised is
 * translated into a typed error; everything else passes through unchanged, with its Postgres fields.
 * The texts are Message DB 1.3.0's `RAISE EXCEPTION` formats (all SQLSTATE P0001).
 */
import {
  AuthenticationError,
  ConditionNotEnabledError,
  ConnectionError,
  DatabaseMissingError,
  DeadlockError,
  DuplicateMessageIdError,
  ExpectedVersionError,
  InvalidArgumentError,
  SchemaMissingError,
  isMessageDbError,
  StatementTimeoutError,
} from './errors.js';

/** The structural shape of a postgres.js or PGlite database error (postgres.js names the constraint `constraint_name`). */
export interface PostgresErrorLike {
  code?: string;
  message: string;
  detail?: string;
  constraint?: string;
  constraint_name?: string;
  /** The server's context: for an error inside a function, which one (and the statement it ran). */
  where?: string;
}

const expectedVersionText = /^Wrong expected version: (-?\d+) \(Stream: (.*), Stream Version: (-?\d+)\)$/s;
const duplicateIdDetail = /^Key \(id\)=\(([^)]*)\) already exists\.$/;
/** The context of an error raised inside the query get_stream_messages or get_category_messages builds. */
const readFunctionContext = /PL\/pgSQL function (?:message_store\.)?get_(?:stream|category)_messages\(/;
/** Errors a condition's SQL can cause: feature not supported, cardinality, data exceptions, syntax and access rules. */
const conditionErrorClasses = new Set(['0A', '21', '22', '42']);

/** Socket-level failures (errno codes, no SQLSTATE) that mean the connection is gone, not the statement wrong. */
const connectionErrnos = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
/**
 * The driver's and the engine's codes for a connection lost under a statement: postgres.js'
 * CONNECTION_CLOSED (the socket closed), CONNECTION_ENDED and CONNECTION_DESTROYED (closed by the
 * client); the engine's QUERY_TIMEOUT (no answer within queryTimeoutMs). postgres.js'
 * CONNECT_TIMEOUT is not among them: the caller's time is already spent, so it is not retried.
 */
const connectionCodes = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'QUERY_TIMEOUT']);
/** Codes of a connection that could not be opened: a ConnectionError, but not retried. */
const openFailureCodes = new Set(['CONNECT_TIMEOUT', 'SSL_NOT_SUPPORTED']);

function asPostgresError(error: unknown): PostgresErrorLike | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as Partial<PostgresErrorLike>;
  return typeof candidate.message === 'string' ? (candidate as PostgresErrorLike) : undefined;
}

/**
 * True when the error means the connection was lost or could not be made, so the operation may be
 * retried on a new connection: SQLSTATE class 08, the shutdown codes 57P01-57P03, socket errors, and
 * the driver's codes for a lost connection. Recognised by code only, never by a driver's text.
 */
export function isConnectionFault(error: unknown): boolean {
  const pgError = asPostgresError(error);
  if (pgError === undefined) return false;
  const code = pgError.code ?? '';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  if (connectionErrnos.has(code) || connectionCodes.has(code)) return true;
  return error instanceof AggregateError && error.errors.some(isConnectionFault);
}

/**
 * True when the server broke a deadlock by rolling back the statement (40P01). Outside a
 * transaction the statement was its own transaction, so nothing of it was committed and it may be
 * run again. (40001, serialization_failure, is left alone: Message DB runs at READ COMMITTED, where
 * the server does not raise it; at a stricter isolation level chosen by the caller, write_message's
 * expected-version check reads an old snapshot, and a retry would hide that.)
 */
export function isDeadlock(error: unknown): boolean {
  return asPostgresError(error)?.code === '40P01';
}

/** Translate a recognised database error into a typed error; anything else is returned as it is. */
export function fromPostgresError(error: unknown): unknown {
  // Already translated (a transaction's statement, then the transaction): keep it as it is.
  if (isMessageDbError(error)) return error;
  const pgError = asPostgresError(error);
  if (pgError === undefined) return error;
  const { code, message } = pgError;
  const options = { cause: error };

  if (code === 'P0001') {
    const version = expectedVersionText.exec(message);
    if (version) {
      return new ExpectedVersionError(version[2] ?? '', Number(version[1]), Number(version[3]), options);
    }
    if (message === 'Retrieval with SQL condition is not activated') return new ConditionNotEnabledError(options);
    if (message.startsWith('Must be a stream name: ')) {
      return new InvalidArgumentError('streamName', `must be a stream name, not a category (got ${message.slice(23)})`, options);
    }
    if (message.startsWith('Must be a category: ')) {
      return new InvalidArgumentError('category', `must be a category (got ${message.slice(20)})`, options);
    }
    if (message.startsWith('Correlation must be a category')) {
      return new InvalidArgumentError('correlation', `must be a category (${message})`, options);
    }
    if (message.startsWith('Consumer group')) return new InvalidArgumentError('consumerGroup', `is invalid: ${message}`, options);
    return error;
  }
  if (code === '23505' && (pgError.constraint ?? pgError.constraint_name) === 'messages_id') {
    const id = duplicateIdDetail.exec(pgError.detail ?? '')?.[1] ?? 'unknown';
    return new DuplicateMessageIdError(id, options);
  }
  if (code === '22P02' && message.startsWith('invalid input syntax for type uuid')) {
    return new InvalidArgumentError('id', 'must be a UUID', options);
  }
  if (code === '22003' && message === 'smallint out of range') {
    return new InvalidArgumentError('consumerGroup.size', 'must not be greater than 32767', options);
  }
  if (code === '2201W') return new InvalidArgumentError('batchSize', 'must be -1 or greater', options);
  if (code === '40P01') {
    return new DeadlockError(
      'The server detected a deadlock and rolled the statement back; nothing it wrote was committed. ' +
        'Writes lock their categories (write_message), so batches or transactions that write to the same ' +
        'categories in different orders can deadlock: write to them in one order.',
      options,
    );
  }
  if (code === '57014' && message.includes('statement timeout')) {
    return new StatementTimeoutError('The statement ran longer than statementTimeoutMs and was cancelled', options);
  }
  if (code === '3F000' && message.includes('message_store')) return new SchemaMissingError('schema message_store does not exist', options);
  if (code === '42883' && /function (message_store\.)?[a-z_0-9]+\(/.test(message) && isMessageStoreFunction(message)) {
    return new SchemaMissingError(message, options);
  }
  if (code === '42P01' && message.includes('messages')) return new SchemaMissingError(message, options);
  // Inside the read functions' query, the only SQL of the caller's is the condition. The server's text
  // can quote it, and message data it read (`invalid input syntax for type integer: "…"`), so it stays
  // in `cause` and out of the message.
  if (conditionErrorClasses.has(code?.slice(0, 2) ?? '') && readFunctionContext.test(pgError.where ?? '')) {
    return new InvalidArgumentError('condition', `failed on the server (SQLSTATE ${code}; the server's text is in cause)`, options);
  }
  if (isConnectionFault(error) || openFailureCodes.has(code ?? '')) {
    return new ConnectionError(`Lost or could not open a database connection: ${safeText(message)}`, options);
  }
  return error;
}

/**
 * Translate an error from opening a connection (`connect()`), naming `target` (already redacted):
 * refused credentials (28P01, and 28000: unknown role, login not allowed, no pg_hba.conf entry), a
 * database that does not exist (3D000), and SSL asked of a server without it. None of these is
 * retried: they are answers, not faults. Anything else goes through fromPostgresError.
 */
export function fromConnectError(error: unknown, target: string): unknown {
  if (isMessageDbError(error)) return error;
  const pgError = asPostgresError(error);
  if (pgError === undefined) return error;
  const { code, message } = pgError;
  const options = { cause: error };
  if (code === '28P01' || code === '28000') return new AuthenticationError(target, safeText(message), options);
  if (code === '3D000') return new DatabaseMissingError(target, options);
  // The engine asked the server, after a connection that asked for SSL failed: it answered 'N'.
  if (code === 'SSL_NOT_SUPPORTED') {
    return new ConnectionError(
      `The server at ${target} does not support SSL connections, but the connection asks for SSL (sslmode or ssl). ` +
        'Enable SSL on the server, or connect without it where the network is trusted.',
      options,
    );
  }
  return fromPostgresError(error);
}

const messageStoreFunctions = [
  'write_message',
  'get_stream_messages',
  'get_category_messages',
  'get_last_stream_message',
  'stream_version',
  'message_store_version',
  'acquire_lock',
  'hash_64',
  'category',
  'is_category',
  'cardinal_id',
  'id',
];

function isMessageStoreFunction(message: string): boolean {
  const name = /function (?:message_store\.)?([a-z_0-9]+)\(/.exec(message)?.[1];
  return name !== undefined && messageStoreFunctions.includes(name);
}

/** Strip anything that looks like a connection URL's credentials from a driver's text. */
export function safeText(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@').replace(/password=\S+/gi, 'password=***');
}
