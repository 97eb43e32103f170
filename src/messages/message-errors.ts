/**
 * The errors of typed messages: data that does not match its definition when a message is built
 * (nothing is written), and a stored message a definition cannot read (a version it does not know,
 * an upcast that threw, data that fails the schema after upcasting). Messages name the message's
 * type, version, stream and positions, and the paths of the schema's issues; never the data or the
 * issues' own texts, which may quote it: those are on `issues`, which is not enumerable.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { MessageDbError, isMessageDbError } from '../vocabulary/errors.js';
import type { Message } from '../vocabulary/message.js';

/** The paths of a schema's issues, for a message: `amount, owner.name` (`(data)` for the whole value). */
function issuePaths(issues: readonly StandardSchemaV1.Issue[]): string {
  const paths = issues.map((issue) =>
    issue.path === undefined || issue.path.length === 0
      ? '(data)'
      : issue.path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.'),
  );
  const unique = [...new Set(paths)];
  return unique.length > 5 ? `${unique.slice(0, 5).join(', ')}, ...` : unique.join(', ');
}

function hideIssues(error: Error, issues: readonly StandardSchemaV1.Issue[]): void {
  Object.defineProperty(error, 'issues', { value: issues, enumerable: false });
}

/** `build()` was given data that does not match the definition's schema; nothing was written. */
export class InvalidMessageError extends MessageDbError {
  readonly messageType: string;
  readonly schemaVersion: string;
  /** The schema's issues (not enumerable: their texts may quote the data). */
  declare readonly issues: readonly StandardSchemaV1.Issue[];

  constructor(messageType: string, schemaVersion: string, issues: readonly StandardSchemaV1.Issue[]) {
    const count = issues.length === 1 ? '1 issue' : `${issues.length} issues`;
    super(`${messageType} data does not match its schema (version ${schemaVersion}): ${count} at ${issuePaths(issues)}`, 'INVALID_MESSAGE');
    this.messageType = messageType;
    this.schemaVersion = schemaVersion;
    hideIssues(this, issues);
  }
}

/** Why a stored message could not be read through its definition. */
export type UnreadableMessageReason =
  /** Its schemaVersion is newer than the definition's, or older with no upcast from it. */
  | 'unknown-version'
  /** An upcast function threw (`cause`). */
  | 'upcast-failed'
  /** Its data, upcast to the current version, fails the schema (`issues`). */
  | 'invalid-data'
  /** Its type is not the definition's, or (reading with a registry that refuses them) no definition's. */
  | 'unknown-type';

/**
 * A stored message could not be read through its definition. In a consumer it is the `cause` of the
 * HandlerError that `onError` receives, so the message can be retried, skipped, or stop the consumer.
 */
export class UnreadableMessageError extends MessageDbError {
  readonly reason: UnreadableMessageReason;
  readonly streamName: string;
  readonly position: number;
  readonly globalPosition: number;
  readonly messageType: string;
  /** The message's schema version (its metadata's, or the definition's default for a message without one). */
  readonly schemaVersion: string | undefined;
  /** The schema's issues when `reason` is `invalid-data` (not enumerable: their texts may quote the data). */
  declare readonly issues: readonly StandardSchemaV1.Issue[];

  constructor(
    message: Message,
    schemaVersion: string | undefined,
    reason: UnreadableMessageReason,
    problem: string,
    options?: { cause?: unknown; issues?: readonly StandardSchemaV1.Issue[] },
  ) {
    const version = schemaVersion === undefined ? '' : `, schema version ${schemaVersion}`;
    super(
      `${message.type} (Stream: ${message.streamName}, Position: ${message.position}, Global Position: ${message.globalPosition}${version}) cannot be read: ${problem}`,
      'UNREADABLE_MESSAGE',
      options,
    );
    this.reason = reason;
    this.streamName = message.streamName;
    this.position = message.position;
    this.globalPosition = message.globalPosition;
    this.messageType = message.type;
    this.schemaVersion = schemaVersion;
    hideIssues(this, options?.issues ?? []);
  }
}

/** Shown for an invalid-data UnreadableMessageError: the count and the paths of the issues. */
export function issuesSummary(issues: readonly StandardSchemaV1.Issue[]): string {
  return `${issues.length === 1 ? '1 issue' : `${issues.length} issues`} at ${issuePaths(issues)}`;
}

/** True when `error` is an `InvalidMessageError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isInvalidMessageError = (error: unknown): error is InvalidMessageError => isMessageDbError(error) && error.code === 'INVALID_MESSAGE';
/** True when `error` is an `UnreadableMessageError` (by its `Symbol.for` brand, so across two installed copies of the package too). */
export const isUnreadableMessageError = (error: unknown): error is UnreadableMessageError => isMessageDbError(error) && error.code === 'UNREADABLE_MESSAGE';
