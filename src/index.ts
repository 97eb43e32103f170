/**
 * messagedb: a TypeScript client for Message DB, on a PostgreSQL server or embedded PGlite.
 */
export { MessageDbClient } from './client.js';
export type { Transaction, TransactionOptions } from './client.js';
export { MessageStoreSession } from './session.js';
export type { ConnectConfig, EmbeddedConfig, RetryConfig, CommonConfig } from './config.js';
export { redactConnectionString } from './config.js';
export type { PoolStats } from './engine/engine.js';
export { MESSAGE_DB_VERSION, databaseScriptsDir } from './install.js';
export type { InstallResult } from './install.js';
export type { Message, NewMessage, Metadata } from './message.js';
export { follow, followMetadata, parseUtcTimestamp } from './message.js';
export type { WriteMessageInput, WriteMessagesOptions, WriteOptions } from './write.js';
export type {
  ConsumerGroup,
  GetCategoryMessagesOptions,
  GetLastStreamMessageOptions,
  GetStreamMessagesOptions,
  ReadOptions,
} from './read.js';
export {
  MAX_CONSUMER_GROUP_SIZE,
  cardinalId,
  category,
  categoryTypes,
  consumerGroupMember,
  entityName,
  hash64,
  id,
  isCategory,
  streamName,
} from './stream-name.js';
export type { StreamNameOptions } from './stream-name.js';
export {
  AbortError,
  ClosedError,
  ConditionNotEnabledError,
  ConnectionError,
  DuplicateMessageIdError,
  ExpectedVersionError,
  InvalidArgumentError,
  MessageDbError,
  PoolTimeoutError,
  SchemaMissingError,
  StatementTimeoutError,
  UnsafeIntegerError,
  isAbortError,
  isClosedError,
  isConditionNotEnabledError,
  isConnectionError,
  isDuplicateMessageIdError,
  isExpectedVersionError,
  isInvalidArgumentError,
  isMessageDbError,
  isPoolTimeoutError,
  isSchemaMissingError,
  isStatementTimeoutError,
} from './errors.js';
export type { MessageDbErrorCode } from './errors.js';
