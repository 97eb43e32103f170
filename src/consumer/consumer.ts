/**
 * Consumer: reads a category from its last recorded position, dispatches each message to a handler
 * by type, and records its position the Eventide way, so a restart resumes where it left off
 * (at-least-once: the last recorded message is delivered again).
 */
import type { MessageReader, TypedMessage } from '../messages/define-message.js';
import { isUnreadableMessageError } from '../messages/message-errors.js';
import type { MessageDbClient } from '../store/client.js';
import type { MessageFilter } from '../vocabulary/condition.js';
import { AbortError, isConnectionError, isPoolTimeoutError } from '../vocabulary/errors.js';
import type { Message } from '../vocabulary/message.js';
import { backoffDelay, sleep } from '../engine/runner.js';
import { cardinalId } from '../vocabulary/stream-name.js';
import * as validate from '../vocabulary/validate.js';
import { MAX_TIMER_MS, resolveConsumerConfig, type ConsumerConfig, type HandlerErrorDecision, type ResolvedConsumerConfig } from './consumer-config.js';
import { ConsumerError, HandlerError, HandlerTimeoutError } from './consumer-errors.js';
import { dispatchBatch } from './dispatch.js';
import { DeadLetterParking, type DeadLetterCounts, type DeadLetterReplayResult } from './dead-letter-parking.js';
import { checkDecision } from './dead-letter-policy.js';
import { deadLetterStreamName } from './dead-letter-stream.js';
import { callWithTimeout, isThenable } from './handler-timeout.js';
import { offeredItems } from './message-iterator.js';
import { hasNotifyTrigger, notifyChannel } from './notify-trigger.js';
import { PollLoop, type ConsumerState } from './poll-loop.js';
import { PositionStore, positionStreamName } from './position-store.js';
import { ConsumerTelemetry } from '../telemetry/consumer-telemetry.js';
import { ElasticGroup, type ElasticStats, type PartitionConsumer } from './elastic-group.js';

/** What a handler receives besides the message. */
export interface HandlerContext {
  /** The consumer's client, so a handler can write (e.g. `follow` the message it handles). */
  client: MessageDbClient;
  consumer: Consumer;
  /**
   * Aborted once the consumer is asked to stop, and when the handler runs past `handlerTimeoutMs`
   * (with the HandlerTimeoutError as its reason); the handler may finish early.
   */
  signal: AbortSignal;
}

/** Handles one message; a handler that throws (or rejects) has failed on it. */
export type MessageHandler<Data = unknown> = (message: Message<Data>, context: HandlerContext) => void | Promise<void>;

/** Handles one message read through its definition: data upcast to the current version and validated. */
export type TypedMessageHandler<Type extends string, Data> = (message: TypedMessage<Type, Data>, context: HandlerContext) => void | Promise<void>;

/**
 * What a filtered read passed over: every message of the category up to this global position was
 * read or did not match, so the position may move there although no message was handled.
 */
interface ScannedThrough {
  readonly scannedThrough: number;
}

/** What the poll loop carries: messages, and at most one ScannedThrough at the end of a batch. */
type Item = Message | ScannedThrough;

const isScannedThrough = (item: Item): item is ScannedThrough => (item as Partial<ScannedThrough>).scannedThrough !== undefined;
const itemPosition = (item: Item): number => (isScannedThrough(item) ? item.scannedThrough : item.globalPosition);

/** `start()` options. */
export interface ConsumerStartOptions {
  /** Stops the consumer like `stop()` does. */
  signal?: AbortSignal;
}

/** `stop()` options. */
export interface ConsumerStopOptions {
  /**
   * Wait at most this long for the handlers in flight (default: as long as they take). Past it the
   * consumer stops without them: their messages are not recorded as handled, so they are handled
   * again after a restart.
   */
  timeoutMs?: number;
}

/** A consumer's figures; `lag` is the category head minus `position`. */
export interface ConsumerStats {
  state: ConsumerState;
  /** The global position of the last handled message (no message before it is unhandled), or null. */
  position: number | null;
  /** The position last written to the position stream (or read from it at start), or null. */
  recordedPosition: number | null;
  /** The global position of the category's newest message (the last one known if it cannot be read now). */
  categoryHead: number | null;
  /** Global positions between the category head and `position`; for a group member or a correlation filter, an upper bound. */
  lag: number | null;
  /** Messages handled since the consumer was created, including ones no handler matched. */
  handled: number;
  /** Failures seen: handler errors, and lost connections that were retried. */
  errors: number;
  /** An elastic consumer's group figures (its `position` is then the lowest of its partitions'). */
  elastic?: ElasticStats;
  /** The dead-letter stream's counts as last read (all 0 for a consumer that cannot park; an elastic one's: summed over the partitions it holds). */
  deadLetters: DeadLetterCounts;
}

/** `replayDeadLetters()` options. */
export interface ReplayDeadLettersOptions {
  /** The originals' global positions to replay (default: every waiting one). */
  globalPositions?: readonly number[];
  signal?: AbortSignal;
}

/** Lost connections and pool waits are retried forever; anything else is the caller's to see. */
const isTransient = (error: unknown): boolean => isConnectionError(error) || isPoolTimeoutError(error);

/**
 * A consumer of one category.
 *
 * @example
 * const consumer = new Consumer(client, { category: 'account', identifier: 'worker-1' })
 *   .on('Deposited', async (message, { client }) => { ... })
 * const running = consumer.start()
 * // later
 * await consumer.stop()
 * await running
 */
export class Consumer {
  readonly category: string;
  readonly identifier: string | undefined;
  /** Where this consumer records its position (`account:position-worker-1`). */
  readonly positionStreamName: string;
  /** Where this consumer parks messages (`account:deadLetter-worker-1`), when `onError` may park them; undefined for an elastic consumer, whose partitions park in their own (`findDeadLetterStreams`). */
  readonly deadLetterStreamName: string | undefined;
  readonly #deadLetters: DeadLetterParking | undefined;
  readonly #client: MessageDbClient;
  readonly #config: ResolvedConsumerConfig;
  readonly #store: PositionStore;
  readonly #handlers = new Map<string, MessageHandler<never>>();
  #catchAll: MessageHandler<never> | undefined;
  #loop: PollLoop<Item> | undefined;
  #position: number | null = null;
  #recordedPosition: number | null = null;
  #categoryHead: number | null = null;
  #handled = 0;
  #errors = 0;
  #sinceRecord = 0;
  #recording: Promise<void> = Promise.resolve();
  readonly #telemetry: ConsumerTelemetry | undefined;
  /** The member side of an elastic group (`elastic`), which runs one consumer per partition it holds. */
  readonly #elastic: ElasticGroup | undefined;
  /** A background position write that failed for a reason other than a lost connection. */
  #recordFailure: unknown;

  constructor(client: MessageDbClient, config: ConsumerConfig) {
    this.#config = resolveConsumerConfig(config);
    this.#client = client;
    this.category = this.#config.category;
    this.identifier = this.#config.identifier;
    this.positionStreamName = positionStreamName(this.category, this.identifier);
    this.#store = new PositionStore(client, this.positionStreamName, this.#config.consumerGroup);
    const telemetry = client.telemetry;
    this.#telemetry =
      telemetry &&
      new ConsumerTelemetry(telemetry, this.category, this.identifier, async () => {
        const { position, lag, deadLetters } = await this.stats();
        return { position, lag, deadLettersWaiting: this.#deadLetters === undefined ? null : deadLetters.waiting };
      });
    // An elastic consumer's partitions park in streams of their own (elastic-dead-letters.ts).
    const parks = this.identifier !== undefined && this.#config.deadLetters && this.#config.elastic === undefined;
    this.deadLetterStreamName = parks ? deadLetterStreamName(this.category, this.identifier as string) : undefined;
    this.#deadLetters = this.#deadLetterParking();
    const elastic = this.#config.elastic;
    this.#elastic = elastic && new ElasticGroup(client, this.#config, elastic, (partitionConfig, partition) => this.#partition(partitionConfig, partition));
  }

  /**
   * Handle messages of `type` with `handler` (replacing an earlier one). Given a message definition
   * (`defineMessage`), the handler receives the message with its data upcast and validated; a
   * message the definition cannot read fails like a throwing handler, with an
   * UnreadableMessageError as the HandlerError's `cause`.
   */
  on<Type extends string, Data>(definition: MessageReader<Type, Data>, handler: TypedMessageHandler<Type, Data>): this;
  on<Data = unknown>(type: string, handler: MessageHandler<Data>): this;
  on(typeOrDefinition: string | MessageReader, handler: MessageHandler<never>): this {
    if (typeof typeOrDefinition === 'object' && typeOrDefinition !== null && typeof typeOrDefinition.read === 'function') {
      const definition = typeOrDefinition;
      if (typeof handler !== 'function') throw new ConsumerError(`on(${JSON.stringify(definition.type)}, handler): handler must be a function`);
      const typed = handler as MessageHandler<unknown>;
      // Awaits only what is asynchronous: a synchronous schema and handler run in one go.
      const read: MessageHandler<never> = (message: Message, context) => {
        const parsed = definition.read(message);
        return isThenable(parsed) ? parsed.then((value) => typed(value, context)) : typed(parsed, context);
      };
      return this.on(definition.type, read);
    }
    const type = typeOrDefinition;
    if (typeof type !== 'string' || type === '') throw new ConsumerError('on(type, handler): type must be a non-empty string');
    if (typeof handler !== 'function') throw new ConsumerError(`on(${JSON.stringify(type)}, handler): handler must be a function`);
    this.#handlers.set(type, handler as MessageHandler<never>);
    return this;
  }

  /** Handle every message whose type has no handler of its own (Eventide's catch-all `handle`). */
  onAny<Data = unknown>(handler: MessageHandler<Data>): this {
    if (typeof handler !== 'function') throw new ConsumerError('onAny(handler): handler must be a function');
    this.#catchAll = handler as MessageHandler<never>;
    return this;
  }

  get state(): ConsumerState {
    return this.#elastic?.state ?? this.#loop?.state ?? 'stopped';
  }

  /**
   * Run until `stop()` or the signal: resolves once stopped and the position recorded. Rejects with
   * the HandlerError that stopped it (or any other failure that is not a lost connection: those are
   * retried forever). Can be started again once it has ended.
   */
  start(options: ConsumerStartOptions = {}): Promise<void> {
    if (this.#elastic !== undefined) return this.#elastic.run(options.signal);
    return this.#run((message, signal) => this.#handle(message, signal), this.#config.concurrency, options.signal);
  }

  /**
   * Let the messages in flight finish, record the position, and resolve. Stops without waiting for
   * the handlers in flight after `timeoutMs`, and at once when the client is closed (nothing they do
   * could be recorded); their messages stay unhandled. Rejects only on a bad option.
   */
  stop(options: ConsumerStopOptions = {}): Promise<void> {
    let timeoutMs: number | undefined;
    try {
      timeoutMs = options.timeoutMs === undefined ? undefined : validate.integer('timeoutMs', options.timeoutMs, 0, MAX_TIMER_MS);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#elastic !== undefined) return this.#elastic.stop(timeoutMs === undefined ? {} : { timeoutMs });
    const loop = this.#loop;
    if (loop === undefined) return Promise.resolve();
    const ended = loop.stop();
    if (timeoutMs !== undefined && loop.state === 'stopping') {
      const timer = setTimeout(() => void loop.abandon(), timeoutMs);
      void ended.finally(() => clearTimeout(timer));
    }
    return ended;
  }

  /**
   * The messages, one at a time, as an async iterator. A message counts as handled when the loop
   * body asks for the next one; leaving the loop (`break`, `throw`) stops the consumer and leaves
   * the current message unhandled, so it is delivered again next time. Handlers must not be set.
   */
  messages(options: ConsumerStartOptions = {}): AsyncIterableIterator<Message, undefined> {
    if (this.#handlers.size > 0 || this.#catchAll !== undefined) {
      throw new ConsumerError('A consumer with handlers is run with start(); iterate over one without handlers');
    }
    if (this.#config.concurrency !== 1) throw new ConsumerError('Iterating handles one message at a time: concurrency must be 1');
    if (this.#elastic !== undefined) throw new ConsumerError('An elastic consumer runs with handlers and start(): it handles its partitions side by side');
    return offeredItems<Message>(
      (offer) => this.#run(offer, 1, options.signal),
      () => this.stop(),
    );
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message, undefined> {
    return this.messages();
  }

  /** Current figures; reads the category head (falling back to the last one known if that fails). */
  async stats(options: { signal?: AbortSignal } = {}): Promise<ConsumerStats> {
    try {
      // The primary's head: the lag includes what a replica has not replayed yet.
      this.#categoryHead = Math.max(this.#categoryHead ?? 0, await this.#client.categoryHead(this.category, { ...options, primary: true }));
    } catch {
      // Stats are for monitoring: an unreachable database must not make them fail.
    }
    const head = this.#categoryHead;
    const stats: ConsumerStats = {
      state: this.state,
      position: this.#position,
      recordedPosition: this.#recordedPosition,
      categoryHead: head,
      lag: head === null ? null : Math.max(0, head - (this.#position ?? 0)),
      handled: this.#handled,
      errors: this.#errors,
      deadLetters: this.#deadLetters?.counts() ?? { parked: 0, replayed: 0, discarded: 0, waiting: 0 },
    };
    return this.#elastic === undefined ? stats : this.#elasticStats(stats, this.#elastic);
  }

  /** An elastic consumer's figures: summed over its partitions' consumers, `position` the lowest of theirs. */
  #elasticStats(stats: ConsumerStats, elastic: ElasticGroup): ConsumerStats {
    const group = elastic.stats();
    const position = group.positions.length === 0 ? null : Math.min(...group.positions);
    const head = stats.categoryHead;
    const lag = head === null ? null : Math.max(0, head - (position ?? 0));
    const { handled, errors, deadLetters } = group;
    return { ...stats, position, recordedPosition: null, lag, handled, errors, deadLetters, elastic: group.elastic };
  }

  /** The consumer of one partition of this elastic consumer: its handlers, called only while the partition is held. */
  #partition(config: ConsumerConfig, partition: number): PartitionConsumer {
    const elastic = this.#elastic as ElasticGroup;
    const member = new Consumer(this.#client, config);
    const guard =
      (handler: MessageHandler<never>): MessageHandler<never> =>
      (message, context) =>
        elastic.guard(partition, context.signal, () => handler(message, { ...context, consumer: this })) as void | Promise<void>;
    for (const [type, handler] of this.#handlers) member.on(type, guard(handler));
    if (this.#catchAll !== undefined) member.onAny(guard(this.#catchAll));
    return {
      start: (options) => member.start(options),
      stop: (options) => member.stop(options),
      figures: () => ({ position: member.#position, handled: member.#handled, errors: member.#errors, deadLetters: member.#deadLetters?.counts() }),
      replayDeadLetters: (options) => member.replayDeadLetters(options),
    };
  }

  /**
   * Handle parked messages again through this consumer's handlers, oldest first: the given global
   * positions, or every waiting one. Each handled one is marked `Replayed` in the dead-letter
   * stream; one whose handler fails again is marked `ReplayFailed` and stays parked. Works whether
   * the consumer runs or not (while it runs, beside the batch in flight); a replayed message arrives
   * after newer messages of its stream. An elastic consumer replays the partitions it holds, and
   * asks the holders of the others to (`requested`).
   */
  async replayDeadLetters(options: ReplayDeadLettersOptions = {}): Promise<DeadLetterReplayResult> {
    const parking = this.#deadLetters;
    if (parking === undefined && !(this.#elastic !== undefined && this.#config.deadLetters)) {
      throw new ConsumerError(`Consumer of ${this.category} has no dead-letter stream: it needs an identifier and an onError that may answer 'dead-letter'`);
    }
    const signal = validate.signal(options.signal);
    const positions = options.globalPositions?.map((position, index) => validate.integer(`globalPositions[${index}]`, position, 0));
    if (parking === undefined) return (this.#elastic as ElasticGroup).replayDeadLetters(positions, signal);
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    this.#loop?.signal.addEventListener('abort', abort, { once: true });
    try {
      return await parking.replay(positions ?? 'all', controller.signal);
    } finally {
      signal?.removeEventListener('abort', abort);
      this.#loop?.signal.removeEventListener('abort', abort);
    }
  }

  /** The dead-letter stream's handling, when this consumer may park messages. */
  #deadLetterParking(): DeadLetterParking | undefined {
    const { deadLetterStreamName: streamName, identifier } = this;
    if (streamName === undefined || identifier === undefined) return undefined;
    return new DeadLetterParking({
      client: this.#client,
      streamName,
      category: this.category,
      identifier,
      retry: this.#config.retry,
      checkIntervalMs: Math.max(this.#config.pollIntervalMs, 1000),
      replay: async (message, signal) => {
        const handler = this.#handlers.get(message.type) ?? this.#catchAll;
        if (handler === undefined) {
          if (this.#config.strict) throw new HandlerError(message, 'No handler (strict mode)');
          return;
        }
        await this.#call(handler, message, signal);
      },
      onParked: () => this.#telemetry?.deadLetter('parked'),
      onReplayed: () => this.#telemetry?.deadLetter('replayed'),
      onDiscarded: () => this.#telemetry?.deadLetter('discarded'),
      onError: (kind, error) => {
        this.#errors++;
        this.#telemetry?.error(kind, error);
      },
    });
  }

  #run(handle: (message: Message, signal: AbortSignal) => Promise<void> | undefined, concurrency: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#loop !== undefined && this.#loop.state !== 'stopped' && this.#loop.state !== 'failed') {
      return Promise.reject(new ConsumerError(`Consumer of ${this.category} is already running`));
    }
    const config = this.#config;
    let unlisten: (() => Promise<void>) | undefined;
    let stopWatch: (() => void) | undefined;
    const streamKey =
      config.concurrencyKey === 'cardinalId'
        ? (message: Message) => cardinalId(message.streamName) ?? message.streamName
        : (message: Message) => message.streamName;
    // A stream name is never empty, so '' is a key of its own.
    const key = (item: Item) => (isScannedThrough(item) ? '' : streamKey(item));
    // Only a filter on the primary can move past what it did not read: the category head it reads
    // first is then of the same server, so nothing at or below it can still appear there.
    const scans = config.filter !== undefined && !config.readFromReplicas;
    let filter: MessageFilter | undefined;
    if (config.filter === 'handled') {
      if (this.#catchAll !== undefined || this.#handlers.size === 0) {
        return Promise.reject(new ConsumerError("filter: 'handled' needs handlers of their own types (on(type, handler)) and no onAny"));
      }
      filter = { types: [...this.#handlers.keys()] };
    } else filter = config.filter;
    const loop: PollLoop<Item> = new PollLoop<Item>({
      start: async (stopSignal) => {
        this.#telemetry?.started();
        this.#recordFailure = undefined;
        const recorded = await this.#store.get(stopSignal);
        this.#position = this.#recordedPosition = recorded;
        this.#sinceRecord = 0;
        await this.#deadLetters?.load(stopSignal);
        if (config.listen && unlisten === undefined) unlisten = await this.#listen(loop, stopSignal);
        // Eventide resumes at the recorded position itself: that message is delivered again.
        return recorded ?? 1;
      },
      fetch: async (position, stopSignal) => {
        if (this.#recordFailure !== undefined) throw this.#recordFailure;
        // Read before the batch: every message of the category at or below the head is committed
        // by then (Message DB's write takes a per-category lock to the end of its transaction, so a
        // category's global positions become visible in order), so the batch's read sees them all.
        const head = scans ? await this.#client.categoryHead(config.category, { primary: true, after: null, signal: stopSignal }) : 0;
        const batch: Item[] = await this.#client.getCategoryMessages(config.category, {
          position,
          batchSize: config.batchSize,
          correlation: config.correlation,
          consumerGroup: config.consumerGroup,
          condition: config.condition,
          filter,
          // On a replica the batch is what the replica shows: a prefix of the category in order.
          // No wait for this client's own writes (handlers' writes need not be seen here).
          primary: !config.readFromReplicas,
          after: null,
          signal: stopSignal,
        });
        const last = batch[batch.length - 1] as Message | undefined;
        if (last !== undefined && last.globalPosition > (this.#categoryHead ?? 0)) this.#categoryHead = last.globalPosition;
        if (head > (this.#categoryHead ?? 0)) this.#categoryHead = head;
        // A short batch holds every match from `position` on: the rest up to the head did not match.
        if (batch.length < config.batchSize && head >= position && head > (last?.globalPosition ?? 0)) batch.push({ scannedThrough: head });
        return batch;
      },
      dispatch: async (batch, stopSignal) => {
        // Replays asked for by operators run between batches, never beside one.
        await this.#deadLetters?.poll(stopSignal);
        return dispatchBatch(
          batch,
          {
            concurrency,
            key,
            handle: (item) => (isScannedThrough(item) ? undefined : handle(item, stopSignal)),
            // A handler that finishes after its run gave up on it must not move a later run's position.
            handled: (item, prefix) => (loop.abandoned ? undefined : this.#handledThrough(prefix, !isScannedThrough(item))),
          },
          stopSignal,
        );
      },
      nextPosition: (item) => itemPosition(item) + 1,
      // Recording on idle runs in the background: a notification meanwhile must not wait for it.
      idle: async () => {
        this.#record().catch((error: unknown) => {
          this.#recordFailure ??= error;
        });
        await this.#deadLetters?.poll(loop.signal);
      },
      finish: async (failure) => {
        this.#telemetry?.stopped();
        await unlisten?.().catch(() => {});
        try {
          await this.#record();
        } catch (error) {
          if (failure === undefined) throw error;
        }
      },
      batchSize: config.batchSize,
      pollIntervalMs: config.pollIntervalMs,
      isTransient,
      retryDelayMs: (attempt) => backoffDelay(attempt, config.retry),
      onRetry: (error: unknown) => {
        this.#errors++;
        this.#telemetry?.error('connection', error);
      },
      onState: (state) => {
        if (state === 'stopping') stopWatch = this.#watchClose(loop);
        else if (state === 'stopped' || state === 'failed') stopWatch?.();
      },
    });
    this.#loop = loop;
    return loop.run(signal);
  }

  /**
   * A stopping run gives up on its handlers in flight once the client is closed: nothing they do
   * can be recorded. Returns the function that stops watching.
   */
  #watchClose(loop: PollLoop<Item>): (() => void) | undefined {
    const closing = this.#client.closeSignal;
    if (closing.aborted) {
      void loop.abandon();
      return undefined;
    }
    const abandon = (): void => void loop.abandon();
    closing.addEventListener('abort', abandon, { once: true });
    return () => closing.removeEventListener('abort', abandon);
  }

  /** Subscribe to the category's notifications; each one ends the current poll wait. */
  async #listen(loop: PollLoop<Item>, signal: AbortSignal): Promise<() => Promise<void>> {
    if (!(await hasNotifyTrigger(this.#client, { signal }))) {
      throw new ConsumerError('listen: true needs the NOTIFY trigger: install it once with `await installNotifyTrigger(client)`');
    }
    return this.#client.listen(notifyChannel(this.category), () => loop.wake());
  }

  /**
   * Run the message's handler. A handler that returns no promise and does not throw is done at
   * once: nothing is awaited (most of what a no-op handler costs is the awaiting). Failures go to
   * `onError`.
   */
  #handle(message: Message, signal: AbortSignal): Promise<void> | undefined {
    const handler = this.#handlers.get(message.type) ?? this.#catchAll;
    if (handler === undefined) return this.#config.strict ? this.#failed(message, signal, undefined, undefined, 1) : undefined;
    let result: unknown;
    try {
      result = this.#call(handler, message, signal);
    } catch (cause) {
      return this.#failed(message, signal, handler, cause, 1);
    }
    if (!isThenable(result)) return undefined;
    return Promise.resolve(result).then(
      () => undefined,
      (cause: unknown) => this.#failed(message, signal, handler, cause, 1),
    );
  }

  /** Call the handler, within `handlerTimeoutMs` when one is set. */
  #call(handler: MessageHandler<never>, message: Message, signal: AbortSignal): unknown {
    const timeoutMs = this.#config.handlerTimeoutMs;
    if (timeoutMs === undefined) return this.#invoke(handler, message, signal);
    return callWithTimeout(
      (callSignal) => this.#invoke(handler, message, callSignal),
      signal,
      timeoutMs,
      () => new HandlerTimeoutError(message, timeoutMs),
    );
  }

  #invoke(handler: MessageHandler<never>, message: Message, signal: AbortSignal): unknown {
    const context: HandlerContext = { client: this.#client, consumer: this, signal };
    if (this.#telemetry === undefined) return handler(message as never, context);
    return this.#telemetry.handle(message, async () => handler(message as never, context));
  }

  /**
   * The handler failed on `message` (`cause`) at `attempt`, or there is none (strict mode): apply
   * `onError`'s decision (stop by default) until the message is handled, skipped, or the consumer stops.
   */
  async #failed(message: Message, signal: AbortSignal, handler: MessageHandler<never> | undefined, cause: unknown, attempt: number): Promise<void> {
    for (;;) {
      let error: HandlerError;
      if (handler === undefined) {
        error = new HandlerError(message, 'No handler (strict mode)');
      } else {
        // A handler that gave up because the consumer is stopping has not handled the message.
        if (signal.aborted) throw new AbortError({ cause });
        error =
          cause instanceof HandlerTimeoutError
            ? cause
            : new HandlerError(message, isUnreadableMessageError(cause) ? 'Message could not be read' : 'Handler failed', { cause });
      }
      this.#errors++;
      this.#telemetry?.error('handler', error);
      const decision = this.#config.onError === undefined ? 'stop' : await this.#decide(error, message, attempt);
      if (decision === 'skip') return;
      if (decision === 'dead-letter') {
        if (this.#deadLetters === undefined) {
          throw new ConsumerError(`onError answered 'dead-letter', but the consumer of ${this.category} has no identifier to name its dead-letter stream`, {
            cause: error,
          });
        }
        // Awaited before the message counts as handled: a process that dies first handles it again.
        // A stop meanwhile leaves it unhandled, like a handler that gives up then.
        return this.#deadLetters.park(message, error, attempt, signal).catch((failure: unknown) => {
          throw signal.aborted ? new AbortError({ cause: failure }) : failure;
        });
      }
      if (decision !== 'retry') throw error;
      // A stop request ends the wait (AbortError) and leaves the message unhandled.
      await sleep(backoffDelay(attempt, this.#config.retry), signal);
      attempt++;
      if (handler === undefined) continue;
      try {
        await this.#call(handler, message, signal);
        return;
      } catch (failure) {
        cause = failure;
      }
    }
  }

  /** `onError`'s answer, checked: an answer it does not know stops the consumer with an InvalidArgumentError. */
  async #decide(error: HandlerError, message: Message, attempt: number): Promise<HandlerErrorDecision> {
    const answer: unknown = await this.#config.onError?.(error, message, attempt);
    return checkDecision(answer, error);
  }

  /**
   * A message was handled (`counted`), or a filtered read's stretch without matches passed;
   * `prefix` is the newest item with none unhandled before it.
   */
  #handledThrough(prefix: Item | undefined, counted: boolean): Promise<void> | undefined {
    if (counted) {
      this.#handled++;
      this.#telemetry?.handled();
    }
    if (prefix !== undefined) this.#position = itemPosition(prefix);
    if (++this.#sinceRecord < this.#config.positionUpdateInterval) return undefined;
    return this.#record();
  }

  /**
   * Write the position if it moved since the last record. Writes run one at a time, in order. A
   * lost connection is counted and passed over: the next interval, idle or stop writes it again.
   */
  #record(): Promise<void> {
    this.#sinceRecord = 0;
    const write = async (): Promise<void> => {
      const position = this.#position;
      if (position === null || position === this.#recordedPosition) return;
      try {
        await this.#store.put(position);
        this.#recordedPosition = position;
        this.#telemetry?.positionWritten(position);
      } catch (error) {
        if (!isTransient(error)) throw error;
        this.#errors++;
        this.#telemetry?.error('connection', error);
      }
    };
    const next = this.#recording.then(write, write);
    this.#recording = next.catch(() => {});
    return next;
  }
}
