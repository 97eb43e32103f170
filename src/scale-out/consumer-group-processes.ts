/**
 * Multi-process consumer groups: run the members of a group as worker processes of this one, each
 * a Node process running `runConsumerGroupMember()`. Before any starts, the identifiers must be
 * distinct and (given a client) every member's recorded position must have been recorded with
 * this group size; each member checks its own record again when its consumer starts. On several
 * machines, each runs its share (`members`) with the same `size` and identifiers.
 *
 * As in Eventide's component host, a member that fails stops the group: the others are asked to
 * stop, and `done` rejects with the failure.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MessageDbClient } from '../store/client.js';
import { ConsumerError } from '../consumer/consumer-errors.js';
import { positionStreamName } from '../consumer/position-store.js';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import { MAX_CONSUMER_GROUP_SIZE } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';
import { CONSUMER_GROUP_MEMBER_ENV, type MemberFailure } from './group-member.js';
import { checkRecordedConsumerGroup, recordedConsumerGroup } from '../consumer/group-record.js';

/** `startConsumerGroup()` configuration. */
export interface ConsumerGroupProcessesConfig {
  /** The worker script every member runs (a path or a `file:` URL); it calls `runConsumerGroupMember()`. */
  module: string | URL;
  /** The category the group consumes. */
  category: string;
  /** Members in the whole group, on every machine. */
  size: number;
  /** Members are `<identifier>-0`, `<identifier>-1`, ...; give this or `identifiers`. */
  identifier?: string;
  /** Every member's identifier, in member order (one per member of the whole group, distinct). */
  identifiers?: readonly string[];
  /** The members to run here (default: all). On N machines, each runs its share with the same `size`. */
  members?: readonly number[];
  /** When given, every member's last position record is checked against `size` before anything starts. */
  client?: MessageDbClient;
  /** Added to the workers' environment. */
  env?: Record<string, string>;
  /** Node options of the workers (default: this process's, so loaders such as `--import tsx` carry over). */
  execArgv?: string[];
  /** The workers' stdout and stderr: shared with this process (default), or piped (read `process.stdout`). */
  stdio?: 'inherit' | 'pipe';
}

/** One running member. */
export interface GroupMemberProcess {
  member: number;
  identifier: string;
  process: ChildProcess;
}

/** A running group. */
export interface ConsumerGroupProcesses {
  readonly size: number;
  readonly members: readonly GroupMemberProcess[];
  /**
   * Resolves once every member here has exited cleanly; rejects with the first member's failure
   * (after the others were asked to stop and have exited).
   */
  readonly done: Promise<void>;
  /** Ask every member to stop (SIGTERM: each stops its consumer, recording its position) and wait. Never rejects. */
  stop(): Promise<void>;
}

/** Each member's identifier, checked to be distinct. */
export function consumerGroupIdentifiers(config: Pick<ConsumerGroupProcessesConfig, 'size' | 'identifier' | 'identifiers'>): string[] {
  const size = validate.integer('size', config.size, 1, MAX_CONSUMER_GROUP_SIZE);
  if ((config.identifier === undefined) === (config.identifiers === undefined)) {
    throw new InvalidArgumentError('identifier', 'or identifiers must be given, and not both');
  }
  let identifiers: string[];
  if (config.identifiers === undefined) {
    const prefix = validate.text('identifier', config.identifier);
    identifiers = Array.from({ length: size }, (_, member) => `${prefix}-${member}`);
  } else {
    if (!Array.isArray(config.identifiers) || config.identifiers.length !== size) {
      throw new InvalidArgumentError('identifiers', `must list one identifier per member (${size})`);
    }
    identifiers = config.identifiers.map((identifier, member) => validate.text(`identifiers[${member}]`, identifier));
  }
  const seen = new Map<string, number>();
  identifiers.forEach((identifier, member) => {
    const other = seen.get(identifier);
    // Two members with one identifier share a position stream and overwrite each other's positions.
    if (other !== undefined)
      throw new InvalidArgumentError('identifiers', `must be distinct: members ${other} and ${member} are both ${JSON.stringify(identifier)}`);
    seen.set(identifier, member);
  });
  return identifiers;
}

/**
 * Throw ConsumerGroupMismatchError when any member's last position record (read on the primary)
 * names another group size or member number than `size` and its place in `identifiers`.
 */
export async function checkConsumerGroupPositions(client: MessageDbClient, category: string, identifiers: readonly string[]): Promise<void> {
  const size = identifiers.length;
  await Promise.all(
    identifiers.map(async (identifier, member) => {
      const streamName = positionStreamName(category, identifier);
      const last = await client.getLastStreamMessage(streamName, { primary: true });
      checkRecordedConsumerGroup(streamName, recordedConsumerGroup(last?.metadata), { member, size });
    }),
  );
}

/**
 * Start the members of a consumer group as worker processes.
 *
 * @example
 * const group = await startConsumerGroup({ module: new URL('./account-worker.js', import.meta.url), category: 'account', size: 4, identifier: 'accountProjection', client })
 * process.on('SIGTERM', () => void group.stop())
 * await group.done
 */
export async function startConsumerGroup(config: ConsumerGroupProcessesConfig): Promise<ConsumerGroupProcesses> {
  const category = validate.categoryName(config.category);
  const identifiers = consumerGroupIdentifiers(config);
  const size = identifiers.length;
  const members = config.members === undefined ? identifiers.map((_, member) => member) : [...config.members];
  for (const [index, member] of members.entries()) validate.integer(`members[${index}]`, member, 0, size - 1);
  if (new Set(members).size !== members.length) throw new InvalidArgumentError('members', 'must not repeat a member');
  const modulePath = config.module instanceof URL ? fileURLToPath(config.module) : validate.text('module', config.module);
  if (config.client !== undefined) await checkConsumerGroupPositions(config.client, category, identifiers);

  let stopping = false;
  let failure: Error | undefined;
  const running = members.map((member): GroupMemberProcess & { exited: Promise<void> } => {
    const identifier = identifiers[member] as string;
    const child = fork(modulePath, [], {
      execArgv: config.execArgv ?? process.execArgv,
      env: { ...process.env, ...config.env, [CONSUMER_GROUP_MEMBER_ENV]: JSON.stringify({ category, identifier, member, size }) },
      stdio: config.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let reported: MemberFailure | undefined;
    child.on('message', (message: unknown) => {
      if ((message as MemberFailure | null)?.type === 'messagedb:member-failed') reported = message as MemberFailure;
    });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        const clean = code === 0 || (stopping && signal === 'SIGTERM');
        if (!clean && failure === undefined) {
          const what = reported === undefined ? `exited with ${signal ?? `code ${code}`}` : `failed: ${reported.name}: ${reported.message}`;
          failure = new ConsumerError(`Consumer group member ${member} (${identifier}) ${what}`);
          void stop();
        }
        resolve();
      });
    });
    return { member, identifier, process: child, exited };
  });
  const allExited = Promise.all(running.map((member) => member.exited));
  const stop = async (): Promise<void> => {
    stopping = true;
    for (const { process: child } of running) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    await allExited;
  };
  const done = allExited.then(() => {
    if (failure !== undefined) throw failure;
  });
  // A caller that only ever calls stop() must not see an unhandled rejection.
  done.catch(() => {});
  return { size, members: running.map(({ member, identifier, process: child }) => ({ member, identifier, process: child })), done, stop };
}
