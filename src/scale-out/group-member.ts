/**
 * The worker side of `startConsumerGroup()`: a member process learns which member it is, runs
 * until asked to stop (SIGTERM or SIGINT), and reports a failure to its parent before exiting.
 */
import { InvalidArgumentError, isMessageDbError } from '../vocabulary/errors.js';
import type { ConsumerGroup } from '../store/read.js';
import * as validate from '../vocabulary/validate.js';

/** The environment variable that tells a worker which member it is (JSON). */
export const CONSUMER_GROUP_MEMBER_ENV = 'MESSAGEDB_CONSUMER_GROUP_MEMBER';

/** What a group member's worker is told. */
export interface ConsumerGroupMemberInfo {
  /** The category the group consumes. */
  category: string;
  /** This member's identifier (its position stream's id); distinct in the group. */
  identifier: string;
  /** This member's number and the group's size: pass both to the Consumer. */
  consumerGroup: ConsumerGroup;
  /** Aborted when the parent asks the member to stop: stop the consumer then. */
  signal: AbortSignal;
}

/** What a failed member sends its parent over the IPC channel before it exits. */
export interface MemberFailure {
  type: 'messagedb:member-failed';
  name: string;
  code: string | undefined;
  message: string;
}

/** Read and check this process's member description (set by `startConsumerGroup()`). */
export function consumerGroupMemberFromEnvironment(env = process.env): Omit<ConsumerGroupMemberInfo, 'signal'> {
  const text = env[CONSUMER_GROUP_MEMBER_ENV];
  if (text === undefined) {
    throw new InvalidArgumentError(CONSUMER_GROUP_MEMBER_ENV, 'is not set: run this worker through startConsumerGroup()');
  }
  let parsed: { category?: unknown; identifier?: unknown; member?: unknown; size?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new InvalidArgumentError(CONSUMER_GROUP_MEMBER_ENV, 'must be JSON', { cause: error });
  }
  const group = validate.consumerGroup({ member: parsed.member, size: parsed.size });
  return {
    category: validate.categoryName(parsed.category),
    identifier: validate.text('identifier', parsed.identifier),
    consumerGroup: group as ConsumerGroup,
  };
}

/**
 * Run this process as one member of a consumer group started by `startConsumerGroup()`: `run`
 * gets the member's category, identifier and group, and a signal that fires on SIGTERM/SIGINT.
 * When `run` rejects, the error goes to the parent and the process exits with code 1.
 *
 * @example
 * await runConsumerGroupMember(async ({ category, identifier, consumerGroup, signal }) => {
 *   await using client = await MessageDbClient.connect({ readReplicas: [process.env.REPLICA_URL!] })
 *   await new Consumer(client, { category, identifier, consumerGroup, readFromReplicas: true })
 *     .on('Deposited', handleDeposited)
 *     .start({ signal })
 * })
 */
export async function runConsumerGroupMember(run: (member: ConsumerGroupMemberInfo) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await run({ ...consumerGroupMemberFromEnvironment(), signal: stop.signal });
  } catch (error) {
    const failure: MemberFailure = {
      type: 'messagedb:member-failed',
      name: error instanceof Error ? error.name : 'Error',
      code: isMessageDbError(error) ? error.code : undefined,
      message: error instanceof Error ? error.message : String(error),
    };
    process.stderr.write(`${failure.name}: ${failure.message}\n`);
    await new Promise<void>((resolve) => (process.send === undefined ? resolve() : process.send(failure, () => resolve())));
    process.exitCode = 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // The IPC channel would keep the process alive once the work is done.
    process.disconnect?.();
  }
}
