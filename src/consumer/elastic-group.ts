/**
 * An elastic consumer's member side: holds a lease session, looks at the group every heartbeat,
 * takes and gives up partitions towards its fair share, and runs one partition consumer (an
 * ordinary consumer group member of size `partitions`) per partition it holds.
 *
 * Why no stream is handled by two live members: a partition is handled only by the holder of its
 * lock; a holder gives a partition up only after its consumer stopped (handlers done, position
 * recorded). A member that goes silent (paused, frozen, cut off) keeps its locks until another
 * member ends its session after `leaseTimeoutMs`; before that, its own handlers stop starting new
 * messages once its last renewal is older than a margin under the lease timeout, and the new
 * holder's fence record (elastic-takeover.ts) makes any later position record of it fail.
 */
import type { MessageDbClient } from '../store/client.js';
import { clientInternals } from '../store/client.js';
import { backoffDelay, sleep } from '../engine/runner.js';
import { AbortError, ConsumerError, InvalidArgumentError, isConnectionError, isPoolTimeoutError } from '../vocabulary/errors.js';
import type { ConsumerConfig, ResolvedConsumerConfig } from './consumer-config.js';
import type { ResolvedElasticConfig } from './elastic-config.js';
import { LeaseSession } from './elastic-lease.js';
import { groupView, planShare } from './elastic-share.js';
import { elasticGroupKey } from './elastic-sql.js';
import { fencePartition, partitionIdentifier } from './elastic-takeover.js';
import { HeldPartitions, type PartitionConsumerFactory } from './elastic-partitions.js';
import { replayElasticDeadLetters } from './elastic-dead-letters.js';
import type { DeadLetterCounts, DeadLetterReplayResult } from './dead-letter-parking.js';
import { isPositionConflictError } from './position-record.js';
import type { ConsumerState } from './poll-loop.js';
import { ElasticTelemetry } from '../telemetry/elastic-telemetry.js';

export type { PartitionConsumer, PartitionConsumerFactory } from './elastic-partitions.js';

/** An elastic consumer's group figures (`stats().elastic`). */
export interface ElasticStats {
  /** The partitions this member holds now, ascending. */
  partitions: number[];
  /** The group's partitions. */
  partitionCount: number;
  /** Live members at this member's last look (0 before the first). */
  members: number;
  /** Rebalances this member completed: times it moved from off its fair share back to it. */
  rebalances: number;
  /** How long the last rebalance took, from the look that found this member off its share to the one that found it on it. */
  lastRebalanceMs: number | null;
  /** Members this one found silent past the lease timeout and whose sessions it ended. */
  membersEnded: number;
}

/** A renewal older than this share of the lease timeout makes a handler confirm the lease first. */
const LEASE_MARGIN = 0.8;

const isTransient = (error: unknown): boolean => isConnectionError(error) || isPoolTimeoutError(error);

/** The elastic side of one Consumer. */
export class ElasticGroup {
  readonly #client: MessageDbClient;
  readonly #config: ResolvedConsumerConfig;
  readonly #elastic: ResolvedElasticConfig;
  readonly #identifier: string;
  readonly #groupKey: number;
  readonly #create: PartitionConsumerFactory;
  readonly #held: HeldPartitions;
  readonly #telemetry: ElasticTelemetry | undefined;
  #session: LeaseSession | undefined;
  #state: ConsumerState = 'stopped';
  #stop = new AbortController();
  #failure: unknown;
  #wake: (() => void) | undefined;
  #applying: Promise<void> | undefined;
  #renewal: ReturnType<LeaseSession['groupLocks']> | undefined;
  #members = 0;
  #rebalances = 0;
  #lastRebalanceMs: number | null = null;
  #offShareSince: number | undefined;
  #membersEnded = 0;
  #stopTimeoutMs: number | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(client: MessageDbClient, config: ResolvedConsumerConfig, elastic: ResolvedElasticConfig, create: PartitionConsumerFactory) {
    if (!clientInternals(client).engine.multipleConnections) {
      throw new InvalidArgumentError('elastic', 'needs a PostgreSQL server: PGlite has one session, so there is no group to share with (run a plain consumer)');
    }
    this.#client = client;
    this.#config = config;
    this.#elastic = elastic;
    this.#identifier = config.identifier as string;
    this.#groupKey = elasticGroupKey(config.category, this.#identifier);
    this.#create = create;
    this.#held = new HeldPartitions((partition, error) => this.#ended(partition, error));
    const telemetry = client.telemetry;
    this.#telemetry = telemetry && new ElasticTelemetry(telemetry, config.category, this.#identifier, () => this.#held.size);
  }

  get state(): ConsumerState {
    return this.#state;
  }

  /** Run until stopped: resolves once every partition consumer stopped and the locks are released. */
  run(signal?: AbortSignal): Promise<void> {
    if (this.#state !== 'stopped' && this.#state !== 'failed') {
      return Promise.reject(new ConsumerError(`Consumer of ${this.#config.category} is already running`));
    }
    this.#state = 'starting';
    this.#stop = new AbortController();
    this.#failure = undefined;
    this.#stopTimeoutMs = undefined;
    const run = this.#run(signal);
    this.#running = run.catch(() => {});
    return run;
  }

  async #run(signal: AbortSignal | undefined): Promise<void> {
    const onAbort = (): void => void this.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    this.#telemetry?.started();
    try {
      await this.#lead();
    } catch (error) {
      this.#failure ??= error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await this.#dropAll(this.#stopTimeoutMs);
      await this.#session?.close();
      this.#session = undefined;
      this.#telemetry?.stopped();
      this.#state = this.#failure === undefined ? 'stopped' : 'failed';
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Ask the member to stop: its partitions' consumers stop (within `timeoutMs` when given) while it
   * goes on renewing its lease, then it releases them. Resolves once the run ended; never rejects.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'failed') return this.#running;
    if (this.#state !== 'stopping') this.#stopTimeoutMs = options.timeoutMs;
    this.#state = 'stopping';
    this.#stop.abort();
    this.#wake?.();
    return this.#running;
  }

  /**
   * Call a handler of `partition` only while this member surely still holds it: at once when the
   * lease was renewed recently, else after a renewal that shows it still held. A member that lost
   * the partition stops its consumer, and the call fails with AbortError (the message stays unhandled).
   */
  guard(partition: number, signal: AbortSignal, call: () => unknown): unknown {
    const session = this.#session;
    if (session !== undefined && performance.now() - session.lastStatementAt < this.#elastic.leaseTimeoutMs * LEASE_MARGIN) return call();
    return this.#confirm(partition, signal).then(call);
  }

  /** Replay parked messages of every partition: those held through their consumers, the rest by request to their holders. */
  replayDeadLetters(globalPositions: readonly number[] | undefined, signal: AbortSignal | undefined): Promise<DeadLetterReplayResult> {
    const scope = { client: this.#client, category: this.#config.category, identifier: this.#identifier, partitions: this.#elastic.partitions };
    return replayElasticDeadLetters({ ...scope, held: (partition) => this.#held.consumer(partition) }, globalPositions, signal);
  }

  /** Figures of the group and of this member's partition consumers. */
  stats(): { handled: number; errors: number; positions: number[]; deadLetters: DeadLetterCounts; elastic: ElasticStats } {
    return {
      ...this.#held.figures(),
      elastic: {
        partitions: this.#held.list(),
        partitionCount: this.#elastic.partitions,
        members: this.#members,
        rebalances: this.#rebalances,
        lastRebalanceMs: this.#lastRebalanceMs,
        membersEnded: this.#membersEnded,
      },
    };
  }

  /** Hold a lease session for as long as the member runs, opening a new one after a lost connection. */
  async #lead(): Promise<void> {
    const stopping = this.#stop.signal;
    for (let attempt = 1; !stopping.aborted; ) {
      try {
        this.#session = await LeaseSession.open(this.#client, this.#groupKey);
        attempt = 1;
        this.#session.ended.catch(() => this.#wake?.());
        await this.#heartbeats(this.#session);
      } catch (error) {
        if (stopping.aborted || this.#failure !== undefined) return;
        if (!isTransient(error)) throw error;
        // The session is gone, and its locks with it: nothing held may go on being handled.
        await this.#dropAll(0);
        await this.#session?.close();
        this.#session = undefined;
        await sleep(backoffDelay(attempt++, this.#config.retry), stopping).catch(() => {});
      }
    }
  }

  /**
   * Renew and rebalance every heartbeat (sooner while this member is off its share) until the
   * session fails, or until stopped and every partition consumer has stopped: the lease is renewed
   * while they finish, so no one takes their partitions meanwhile.
   */
  async #heartbeats(session: LeaseSession): Promise<void> {
    const stopping = this.#stop.signal;
    let draining: Promise<void> | undefined;
    let drained = false;
    for (;;) {
      let delay = this.#elastic.heartbeatIntervalMs;
      if (stopping.aborted) {
        draining ??= this.#dropAll(this.#stopTimeoutMs).finally(() => {
          drained = true;
          this.#wake?.();
        });
        if (drained) return;
        await this.#renew(session);
      } else {
        const balanced = await this.#look(session);
        if (this.#state === 'starting' && balanced) this.#state = 'live';
        if (!balanced) delay = Math.min(250, delay);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
        if ((stopping.aborted && draining === undefined) || drained) this.#wake();
      });
      this.#wake = undefined;
      await Promise.race([session.ended, Promise.resolve()]);
    }
  }

  /** Renew the lease now; concurrent callers share one renewal. */
  #renew(session: LeaseSession): Promise<Awaited<ReturnType<LeaseSession['groupLocks']>>> {
    this.#renewal ??= session.groupLocks().finally(() => {
      this.#renewal = undefined;
    });
    return this.#renewal;
  }

  /** Read the group (renewing the lease), end silent members, and start the next rebalancing step. True when this member holds its share. */
  async #look(session: LeaseSession): Promise<boolean> {
    const locks = await this.#renew(session);
    const view = groupView(locks, this.#elastic.partitions, this.#elastic.leaseTimeoutMs, session.pid);
    this.#members = view.members.length;
    if (view.silent.length > 0) {
      const ended = await session.endSilent(view.silent, this.#elastic.leaseTimeoutMs);
      this.#membersEnded += ended.length;
      if (ended.length > 0) this.#telemetry?.membersEnded(ended.length);
    }
    const owned = this.#held.owned();
    const plan = planShare(view, this.#elastic.partitions, session.memberKey, session.pid, owned);
    const balanced = plan.release.length === 0 && owned.size === plan.target;
    if (!balanced) this.#offShareSince ??= performance.now();
    else if (this.#offShareSince !== undefined) {
      this.#lastRebalanceMs = Math.round(performance.now() - this.#offShareSince);
      this.#offShareSince = undefined;
      this.#rebalances++;
      this.#telemetry?.rebalanced(this.#lastRebalanceMs);
    }
    if (this.#applying === undefined && (plan.release.length > 0 || plan.acquire.length > 0)) {
      this.#applying = this.#apply(session, plan.release, plan.acquire)
        .catch((error: unknown) => {
          // A stop aborts a fence under way; that is no failure.
          if (!isTransient(error) && !this.#stop.signal.aborted) this.#fail(error);
        })
        .finally(() => {
          this.#applying = undefined;
        });
    }
    return balanced;
  }

  async #apply(session: LeaseSession, release: number[], acquire: number[]): Promise<void> {
    for (const partition of release) {
      if (this.#stop.signal.aborted) return;
      await this.#held.drop(partition, undefined, () => session.unlock(partition));
    }
    for (const partition of acquire) {
      if (this.#stop.signal.aborted) return;
      if (!(await session.tryLock(partition))) continue;
      try {
        await fencePartition(this.#client, this.#config.category, this.#identifier, { member: partition, size: this.#elastic.partitions }, this.#stop.signal);
      } catch (error) {
        await session.unlock(partition).catch(() => {});
        throw error;
      }
      if (this.#stop.signal.aborted) {
        await session.unlock(partition);
        return;
      }
      this.#held.start(partition, this.#create(this.#partitionConfig(partition), partition));
    }
  }

  /** A partition's consumer ended by itself: a partition fenced by another member is given up, anything else fails the member. */
  #ended(partition: number, error: unknown): void {
    // A record refused at the stream's version: another member fenced this partition, so this
    // member lost it (it was silent past its lease). Give it up; the next look may take it again.
    if (isPositionConflictError(error) || (error instanceof AbortError && !this.#stop.signal.aborted)) {
      const session = this.#session;
      void this.#held.drop(partition, 0, session && (() => session.unlock(partition))).catch(() => {});
      return;
    }
    this.#fail(error);
  }

  #partitionConfig(partition: number): ConsumerConfig {
    const { elastic: _elastic, consumerGroup: _group, ...rest } = this.#config;
    return { ...rest, identifier: partitionIdentifier(this.#identifier, partition), consumerGroup: { member: partition, size: this.#elastic.partitions } };
  }

  /** Stop every partition's consumer once the rebalancing step under way is done, keeping the locks. */
  async #dropAll(timeoutMs: number | undefined): Promise<void> {
    await this.#applying;
    await this.#held.dropAll(timeoutMs);
  }

  /** Renew now (one renewal at a time) and tell whether `partition` is still this member's. */
  async #confirm(partition: number, signal: AbortSignal): Promise<void> {
    const session = this.#session;
    if (session !== undefined && this.#held.holds(partition) && !signal.aborted) {
      const alive = await this.#renew(session).then(
        () => true,
        () => false,
      );
      if (alive && this.#session === session && this.#held.holds(partition)) return;
    }
    // The consumer is told to stop before the call fails, so its failure reads as a stop, not a handler error.
    void this.#held.drop(partition, 0).catch(() => {});
    this.#wake?.();
    throw new AbortError();
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#stop.abort();
    this.#wake?.();
  }
}
