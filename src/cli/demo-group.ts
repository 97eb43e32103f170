/**
 * The demo's consumer group: three `Consumer`s of one category, members 0, 1 and 2 of 3, each
 * computing the balances of its share of the accounts with its own projection.
 */
import type { MessageDbClient } from '../store/client.js';
import { Consumer } from '../consumer/consumer.js';
import type { Message } from '../vocabulary/message.js';
import { BalanceProjection, type AmountData, type Balances } from './demo-bank.js';

/** What one member did, for the report. */
export interface MemberReport {
  member: number;
  positionStream: string;
  /** The global position the member recorded when it stopped. */
  position: number | null;
  handled: number;
  accounts: number;
}

/** A running consumer group and the balances its members compute. */
export class BalanceGroup {
  readonly size: number;
  /** Rejects as soon as a member fails (a handler error, a database error); never resolves. */
  readonly failed: Promise<never>;
  readonly #consumers: Consumer[];
  readonly #projections: BalanceProjection[];
  readonly #handled: number[];
  readonly #running: Promise<void>[];

  /** Start the members on `category`; they stop with `stop()` or when `signal` fires. */
  constructor(client: MessageDbClient, category: string, size: number, signal: AbortSignal) {
    this.size = size;
    this.#projections = Array.from({ length: size }, () => new BalanceProjection());
    this.#handled = this.#projections.map(() => 0);
    this.#consumers = this.#projections.map((projection, member) => {
      const handle = (message: Message<AmountData>): void => {
        projection.apply(message);
        this.#handled[member] = (this.#handled[member] ?? 0) + 1;
      };
      return new Consumer(client, { category, identifier: `balances-${member}`, consumerGroup: { member, size }, pollIntervalMs: 20 })
        .on<AmountData>('Deposited', handle)
        .on<AmountData>('Withdrawn', handle);
    });
    this.#running = this.#consumers.map((consumer) => consumer.start({ signal }));
    this.failed = Promise.race(this.#running.map((run) => run.then(() => new Promise<never>(() => {}))));
    // Awaited by whoever races it; a failure after the demo ended has nobody left to tell.
    this.failed.catch(() => {});
  }

  /** Messages handled by all members together. */
  get handled(): number {
    return this.#handled.reduce((sum, count) => sum + count, 0);
  }

  /** Each member's balances. */
  get balances(): Balances[] {
    return this.#projections.map((projection) => projection.balances);
  }

  /** Stop every member (each records its position); never rejects. */
  async stop(): Promise<void> {
    await Promise.all(this.#consumers.map((consumer) => consumer.stop()));
    await Promise.allSettled(this.#running);
  }

  /** What each member did; call after `stop()`. */
  async reports(): Promise<MemberReport[]> {
    return Promise.all(
      this.#consumers.map(async (consumer, member) => ({
        member,
        positionStream: consumer.positionStreamName,
        position: (await consumer.stats()).recordedPosition,
        handled: this.#handled[member] ?? 0,
        accounts: this.#projections[member]?.balances.size ?? 0,
      })),
    );
  }
}
