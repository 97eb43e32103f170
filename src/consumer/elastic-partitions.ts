/**
 * The partitions an elastic member holds, each with its consumer running: started once the
 * partition is fenced, stopped (handlers done, position recorded) before it is given up.
 */
import type { ConsumerConfig } from './consumer-config.js';
import type { DeadLetterCounts } from './dead-letter-parking.js';
import { sumDeadLetterCounts, type PartitionDeadLetters } from './elastic-dead-letters.js';

/** What the group needs of a partition's consumer (a Consumer, typed here without importing it). */
export interface PartitionConsumer extends Pick<PartitionDeadLetters, 'replayDeadLetters'> {
  start(options?: { signal?: AbortSignal }): Promise<void>;
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Its figures as they are, without reading anything. */
  figures(): { position: number | null; handled: number; errors: number; deadLetters: DeadLetterCounts | undefined };
}

/** Makes the consumer of one partition from its configuration. */
export type PartitionConsumerFactory = (config: ConsumerConfig, partition: number) => PartitionConsumer;

interface Held {
  consumer: PartitionConsumer;
  running: Promise<void>;
  dropping: boolean;
  /** Settles once the partition's consumer stopped and it was given up. */
  dropped: Promise<void> | undefined;
}

/** The running partitions of one member. */
export class HeldPartitions {
  readonly #held = new Map<number, Held>();
  /** Handled and errors of partition consumers that have ended. */
  readonly #ended = { handled: 0, errors: 0 };
  /** Called when a partition's consumer ends on its own, not because it was dropped. */
  readonly #onEnded: (partition: number, error: unknown) => void;

  constructor(onEnded: (partition: number, error: unknown) => void) {
    this.#onEnded = onEnded;
  }

  get size(): number {
    return this.#held.size;
  }

  /** The partitions held and not being given up. */
  owned(): Set<number> {
    return new Set([...this.#held].filter(([, held]) => !held.dropping).map(([partition]) => partition));
  }

  /** The partitions held, ascending, those being given up included. */
  list(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  /** True while `partition` is held and not being given up. */
  holds(partition: number): boolean {
    const held = this.#held.get(partition);
    return held !== undefined && !held.dropping;
  }

  /** The consumer of `partition` while it is held and not being given up. */
  consumer(partition: number): PartitionConsumer | undefined {
    return this.holds(partition) ? this.#held.get(partition)?.consumer : undefined;
  }

  /** Run `consumer` for `partition`. */
  start(partition: number, consumer: PartitionConsumer): void {
    const held: Held = { consumer, running: Promise.resolve(), dropping: false, dropped: undefined };
    held.running = consumer.start().catch((error: unknown) => {
      if (!held.dropping) this.#onEnded(partition, error);
    });
    this.#held.set(partition, held);
  }

  /**
   * Stop a partition's consumer (within `timeoutMs` when given), then run `release` (give up its
   * lock). The consumer is told to stop at once, before this returns.
   */
  drop(partition: number, timeoutMs: number | undefined, release?: () => Promise<void>): Promise<void> {
    const held = this.#held.get(partition);
    if (held === undefined) return Promise.resolve();
    if (held.dropped !== undefined) return held.dropped;
    held.dropping = true;
    const stopped = held.consumer.stop(timeoutMs === undefined ? {} : { timeoutMs });
    held.dropped = (async () => {
      try {
        await stopped;
        await held.running;
        const figures = held.consumer.figures();
        this.#ended.handled += figures.handled;
        this.#ended.errors += figures.errors;
      } finally {
        this.#held.delete(partition);
      }
      await release?.();
    })();
    return held.dropped;
  }

  /** Stop every partition's consumer, giving up no lock (the lease session's end releases them). */
  async dropAll(timeoutMs: number | undefined): Promise<void> {
    await Promise.all(this.list().map((partition) => this.drop(partition, timeoutMs).catch(() => {})));
  }

  /**
   * Handled and errors over every partition consumer this member ran; the positions of those
   * running; the dead-letter counts of the partitions held (another member's are its own).
   */
  figures(): { handled: number; errors: number; positions: number[]; deadLetters: DeadLetterCounts } {
    let { handled, errors } = this.#ended;
    const positions: number[] = [];
    const deadLetters: (DeadLetterCounts | undefined)[] = [];
    for (const held of this.#held.values()) {
      const figures = held.consumer.figures();
      handled += figures.handled;
      errors += figures.errors;
      if (figures.position !== null) positions.push(figures.position);
      if (!held.dropping) deadLetters.push(figures.deadLetters);
    }
    return { handled, errors, positions, deadLetters: sumDeadLetterCounts(deadLetters) };
  }
}
