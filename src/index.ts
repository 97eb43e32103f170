/**
 * messagedb: a TypeScript client for Message DB, on a PostgreSQL server or embedded PGlite.
 */
export { MessageDbClient } from './store/client.js';
export type { ClientQueryOptions, Transaction, TransactionOptions } from './store/client.js';
export type { MessageStoreSession } from './store/session.js';
export type { SqlOptions } from './store/session.js';
export type { ConnectConfig, EmbeddedConfig, RetryConfig, CommonConfig } from './store/config.js';
export { redactConnectionString } from './store/config.js';
export type { PoolStats, SqlRow } from './engine/engine.js';
export type { ReplicaConfig } from './replica/replica-config.js';
export type { PrimaryReadReason, ReadRouteOptions } from './replica/read-router.js';
export type { ReplicaState } from './replica/replica.js';
export type { ReplicaSetStats, ReplicaStats } from './replica/replica-stats.js';
export type { WriteToken } from './replica/write-token.js';
export { MESSAGE_DB_VERSION } from './store/install.js';
export type { InstallResult } from './store/install.js';
export type { Message, NewMessage, Metadata } from './vocabulary/message.js';
export { follow, followMetadata } from './vocabulary/message.js';
export type { WriteMessageInput, WriteMessagesOptions, WriteOptions } from './store/write.js';
export type {
  ConsumerGroup,
  GetCategoryMessagesOptions,
  GetLastStreamMessageOptions,
  GetStreamMessagesOptions,
  ReadOptions,
} from './store/read.js';
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
} from './vocabulary/stream-name.js';
export type { StreamNameOptions } from './vocabulary/stream-name.js';
export {
  AbortError,
  AuthenticationError,
  ClosedError,
  ConditionNotEnabledError,
  ConnectionError,
  DataDirLockedError,
  DatabaseMissingError,
  DeadlockError,
  DuplicateMessageIdError,
  ExpectedVersionError,
  InvalidArgumentError,
  MessageDbError,
  PoolTimeoutError,
  SchemaMissingError,
  StatementTimeoutError,
  TransactionRolledBackError,
  UndecodableValueError,
  UnsafeIntegerError,
  WouldDeadlockError,
  isAbortError,
  isAuthenticationError,
  isClosedError,
  isConditionNotEnabledError,
  isConnectionError,
  isDataDirLockedError,
  isDatabaseMissingError,
  isDeadlockError,
  isDuplicateMessageIdError,
  isExpectedVersionError,
  isInvalidArgumentError,
  isMessageDbError,
  isPoolTimeoutError,
  isSchemaMissingError,
  isStatementTimeoutError,
  isTransactionRolledBackError,
  isUndecodableValueError,
  isWouldDeadlockError,
} from './vocabulary/errors.js';
export type { DataDirHolder, MessageDbErrorCode } from './vocabulary/errors.js';

// Typed messages: definitions, upcasting, registries, safe filters
export { defineMessage } from './messages/define-message.js';
export type {
  BuildOptions,
  BuiltMessage,
  MessageData,
  MessageDefinition,
  MessageDefinitionOptions,
  MessageOf,
  MessageReader,
  ProjectionResult,
  TypedMessage,
  Upcast,
} from './messages/define-message.js';
export { messageRegistry } from './messages/message-registry.js';
export type { MessageRegistry, MessageRegistryOptions, RegistryMessage, RegistrySession, UnknownMessages } from './messages/message-registry.js';
export { InvalidMessageError, UnreadableMessageError, isInvalidMessageError, isUnreadableMessageError } from './messages/message-errors.js';
export type { UnreadableMessageReason } from './messages/message-errors.js';
export type { FilterValue, MessageFilter } from './vocabulary/condition.js';

// Consumers
export { Consumer } from './consumer/consumer.js';
export type { ConsumerStartOptions, ConsumerStats, ConsumerStopOptions, HandlerContext, MessageHandler, TypedMessageHandler } from './consumer/consumer.js';
export type {
  ConsumerConfig,
  ConsumerRetryConfig,
  HandlerErrorDecision,
  HandlerErrorHook,
} from './consumer/consumer-config.js';
export type { ConsumerState } from './consumer/poll-loop.js';
export { ConsumerError, HandlerError, HandlerTimeoutError, isConsumerError, isHandlerError, isHandlerTimeoutError } from './consumer/consumer-errors.js';
export { positionStreamName } from './consumer/position-store.js';
export { POSITION_RECORDED_TYPE, PositionConflictError, isPositionConflictError, recordPosition } from './consumer/position-record.js';
export type { PositionRecordedData, RecordPositionOptions } from './consumer/position-record.js';
export { isConsumerGroupStream } from './consumer/consumer-group.js';
export { hasNotifyTrigger, installNotifyTrigger, notifyChannel, uninstallNotifyTrigger } from './consumer/notify-trigger.js';
// Dead letters: parked messages, their replay and discard
export { DEAD_LETTER_RECORD_TYPES, deadLetterStreamName } from './consumer/dead-letter-stream.js';
export type { DeadLetter, DeadLetterDecisionData, DeadLetterFailure, DeadLetterState } from './consumer/dead-letter-stream.js';
export { discardDeadLetters, listDeadLetters, requestDeadLetterReplay } from './consumer/dead-letter-decisions.js';
export type { DeadLetterOptions, DeadLetterSelection, DiscardDeadLettersOptions } from './consumer/dead-letter-decisions.js';
export type { DeadLetterCounts, DeadLetterReplayResult } from './consumer/dead-letter-parking.js';
export { findDeadLetterStreams } from './consumer/dead-letter-streams.js';
export type { ConsumerDeadLetterStream } from './consumer/dead-letter-streams.js';
export type { HandlerErrorPolicy } from './consumer/dead-letter-policy.js';
export type { ReplayDeadLettersOptions } from './consumer/consumer.js';
export { compactPositions } from './consumer/compact-positions.js';
export type { CompactedCategory, CompactPositionsOptions, CompactPositionsResult } from './consumer/compact-positions.js';
export { ComponentHost, createHost } from './consumer/host.js';
export type {
  HostComponent,
  HostConfig,
  HostEndpointConfig,
  HostFailurePolicy,
  HostState,
  HostedComponentState,
  HostedComponentStatus,
} from './consumer/host.js';
export { PermissionDeniedError, isPermissionDeniedError } from './vocabulary/errors.js';

// Entities: the entity store, snapshots, command handling, writer helpers
export { EntityStore } from './entity/entity-store.js';
export type {
  Decide,
  Decision,
  EntityFetchOptions,
  EntityFetchResult,
  EntityMessage,
  EntityStoreStats,
  HandleOptions,
} from './entity/entity-store.js';
export type { EntityCacheConfig, EntitySnapshotConfig, EntityStoreConfig, Projection, ProjectionMap } from './entity/entity-config.js';
export { SNAPSHOT_RECORDED_TYPE, snapshotStreamName } from './entity/snapshot.js';
export type { SnapshotRecordedData } from './entity/snapshot.js';
export { writeInitial } from './entity/write-initial.js';
export { writeReply } from './entity/write-reply.js';
export { EntityConflictError, ProjectionError, isEntityConflictError, isProjectionError } from './vocabulary/errors.js';

// Scale-out: consumer groups over processes and machines
export {
  CONSUMER_GROUP_MEMBER_PROPERTY,
  CONSUMER_GROUP_SIZE_PROPERTY,
  ConsumerGroupMismatchError,
  isConsumerGroupMismatchError,
} from './consumer/group-record.js';
export { checkConsumerGroupPositions, startConsumerGroup } from './scale-out/consumer-group-processes.js';
export type { ConsumerGroupProcesses, ConsumerGroupProcessesConfig, GroupMemberProcess } from './scale-out/consumer-group-processes.js';
export { runConsumerGroupMember } from './scale-out/group-member.js';
export type { ElasticConfig } from './consumer/elastic-config.js';
export type { ElasticStats } from './consumer/elastic-group.js';
export type { ConsumerGroupMemberInfo } from './scale-out/group-member.js';
export type { NotificationHandler, Unlisten } from './engine/engine.js';
export type { Logger, LogLevel } from './telemetry/logger.js';
export type { MetricsRegistry } from './telemetry/metrics.js';
export type { Context as TraceContext, Span, SpanOptions, Tracer } from './telemetry/tracing.js';
export type { TelemetryConfig } from './telemetry/telemetry.js';
export { TRACEPARENT } from './telemetry/tracing.js';

// The doctor: read-only checks of a live store against docs/tuning.md
export { diagnose } from './doctor/diagnose.js';
export type { DiagnoseOptions, Finding, FindingCode, FindingSeverity } from './doctor/finding.js';
