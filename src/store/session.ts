/**
 * The write and read methods, shared by the client and its transaction handles so both have the
 * same shape: an application can write its message in the same transaction as its own rows.
 */
import type { SqlRow } from '../engine/engine.js';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import type { Message, NewMessage } from '../vocabulary/message.js';
import { fromPostgresError } from '../vocabulary/postgres-error.js';
import * as read from './read.js';
import type { GetCategoryMessagesOptions, GetLastStreamMessageOptions, GetStreamMessagesOptions, ReadContext, ReadOptions } from './read.js';
import { checkRouteOptions, type ReadRouter } from '../replica/read-router.js';
import type { Runner } from '../engine/runner.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import * as write from './write.js';
import type { WriteMessageInput, WriteMessagesOptions, WriteOptions } from './write.js';

/** Writes and reads against Message DB; the client, or a transaction on one of its connections. */
export class MessageStoreSession {
  readonly #context: ReadContext;
  readonly #telemetry: Telemetry | undefined;
  readonly #router: ReadRouter | undefined;
  readonly #messageId: (() => string) | undefined;

  /** @internal `router`: the client's read replicas, when it has any; `messageId`: the ids of messages written without one. */
  constructor(runner: Runner, allowCondition: boolean, telemetry?: Telemetry, router?: ReadRouter, messageId?: () => string) {
    this.#context = { runner, allowCondition };
    this.#telemetry = telemetry;
    this.#router = router;
    this.#messageId = messageId;
  }

  /** The message with an id from the client's `messageId` source when it has none (as given otherwise). */
  #withId<M extends NewMessage>(message: M): M {
    const messageId = this.#messageId;
    if (messageId === undefined || typeof message !== 'object' || message === null || message.id !== undefined) return message;
    return { ...message, id: messageId() };
  }

  /** Where a read with these options runs: the primary, or (with read replicas) wherever the router sends it. */
  #readContext(options: ReadOptions | undefined): ReadContext {
    if (this.#router === undefined) {
      const refused = checkRouteOptions(options);
      return refused === undefined ? this.#context : { runner: refused, allowCondition: this.#context.allowCondition };
    }
    return { runner: this.#router.runner(options), allowCondition: this.#context.allowCondition };
  }

  /**
   * Write one message (`write_message`); returns its stream position.
   *
   * @example const position = await client.writeMessage({ streamName: 'account-1', type: 'Deposited', data: { amount: 10 } })
   */
  writeMessage<Data>(given: WriteMessageInput<Data>, options?: WriteOptions): Promise<number> {
    const message = this.#withId(given);
    const runner = this.#context.runner;
    const written =
      this.#telemetry === undefined
        ? write.writeMessage(runner, message, options)
        : this.#telemetry
            .write(
              'single',
              [message],
              () => write.prepareMessageWrite(message, options),
              (prepared) => write.writePreparedWrite(runner, prepared),
            )
            .then(([position]) => position as number);
    // With read replicas, the client keeps the primary's WAL position after the commit (its write token).
    return this.#router === undefined ? written : this.#router.afterWrite(written);
  }

  /** Write messages atomically in one round trip; returns their stream positions. */
  writeMessages(given: readonly NewMessage[], options?: WriteMessagesOptions): Promise<number[]> {
    const messages = this.#messageId === undefined || !Array.isArray(given) ? given : given.map((message) => this.#withId(message));
    const runner = this.#context.runner;
    // Checked and serialised first, so that tracing adds its traceparent to the metadata as stored
    // and traced writes store and refuse exactly what untraced ones do. (Not an array: writeMessages
    // names the argument.)
    const written =
      this.#telemetry === undefined || !Array.isArray(messages)
        ? write.writeMessages(runner, messages, options)
        : this.#telemetry.write(
            'batch',
            messages,
            () => write.prepareMessagesWrite(messages, options),
            (prepared) => write.writePreparedWrite(runner, prepared),
          );
    return this.#router === undefined ? written : this.#router.afterWrite(written);
  }

  /** One batch of a stream's messages from `position` (`get_stream_messages`). */
  getStreamMessages<Data = unknown>(streamName: string, options?: GetStreamMessagesOptions): Promise<Message<Data>[]> {
    if (this.#telemetry === undefined) return read.getStreamMessages<Data>(this.#readContext(options), streamName, options);
    return this.#telemetry.read(
      'stream',
      streamName,
      () => read.getStreamMessages<Data>(this.#readContext(options), streamName, options),
      (r) => r.length,
    );
  }

  /** One batch of a category's messages from global `position` (`get_category_messages`). */
  getCategoryMessages<Data = unknown>(category: string, options?: GetCategoryMessagesOptions): Promise<Message<Data>[]> {
    if (this.#telemetry === undefined) return read.getCategoryMessages<Data>(this.#readContext(options), category, options);
    return this.#telemetry.read(
      'category',
      category,
      () => read.getCategoryMessages<Data>(this.#readContext(options), category, options),
      (r) => r.length,
    );
  }

  /** The stream's last message, optionally of one type, or null (`get_last_stream_message`). */
  getLastStreamMessage<Data = unknown>(streamName: string, options?: GetLastStreamMessageOptions): Promise<Message<Data> | null> {
    if (this.#telemetry === undefined) return read.getLastStreamMessage<Data>(this.#readContext(options), streamName, options);
    return this.#telemetry.read(
      'last',
      streamName,
      () => read.getLastStreamMessage<Data>(this.#readContext(options), streamName, options),
      (r) => (r === null ? 0 : 1),
    );
  }

  /** The stream's version, or -1 when it is empty, ready to pass as `expectedVersion`. */
  streamVersion(streamName: string, options?: ReadOptions): Promise<number> {
    if (this.#telemetry === undefined) return read.streamVersion(this.#readContext(options), streamName, options);
    return this.#telemetry.read(
      'version',
      streamName,
      () => read.streamVersion(this.#readContext(options), streamName, options),
      () => 0,
    );
  }

  /** The global position of the category's newest message, or 0. */
  categoryHead(category: string, options?: ReadOptions): Promise<number> {
    if (this.#telemetry === undefined) return read.categoryHead(this.#readContext(options), category, options);
    return this.#telemetry.read(
      'head',
      category,
      () => read.categoryHead(this.#readContext(options), category, options),
      () => 0,
    );
  }

  /** Every message of a stream, fetched a batch at a time. */
  readStream<Data = unknown>(streamName: string, options?: GetStreamMessagesOptions): AsyncGenerator<Message<Data>, void, undefined> {
    return read.readStream<Data>((batch) => this.getStreamMessages(streamName, batch), options);
  }

  /** Every message of a category, fetched a batch at a time. */
  readCategory<Data = unknown>(category: string, options?: GetCategoryMessagesOptions): AsyncGenerator<Message<Data>, void, undefined> {
    return read.readCategory<Data>((batch) => this.getCategoryMessages(category, batch), options);
  }
}

/** Runs the caller's own SQL on a transaction's connection. */
export type SqlRunner = (text: string, values: readonly unknown[], options: { signal?: AbortSignal | undefined }) => Promise<SqlRow[]>;

/** Options of `tx.query()`. */
export interface SqlOptions {
  signal?: AbortSignal;
}

/** Refuse what cannot be SQL with parameters, before anything is sent. */
export function checkSql(sql: unknown, params: unknown): void {
  if (typeof sql !== 'string' || sql.trim() === '') throw new InvalidArgumentError('sql', 'must be a non-empty string of SQL');
  if (!Array.isArray(params)) throw new InvalidArgumentError('params', `must be an array of parameter values (got ${typeof params})`);
}

/**
 * A transaction handle: the client's write and read methods, and `query()` for your own SQL, all on
 * the transaction's connection. Usable only until the callback settles.
 */
export class Transaction extends MessageStoreSession {
  readonly #sql: SqlRunner;

  /** @internal */
  constructor(runner: Runner, allowCondition: boolean, telemetry: Telemetry | undefined, sql: SqlRunner, messageId?: () => string) {
    super(runner, allowCondition, telemetry, undefined, messageId);
    this.#sql = sql;
  }

  /**
   * Run your own SQL in the transaction, with bound parameters (`$1`, `$2`, ...), so your rows
   * commit or roll back together with the messages written through `tx`. Resolves with the rows as
   * objects keyed by column name, each value the column's text as PostgreSQL prints it (or null),
   * the same on both engines: convert what you need (`Number(row.total)`, `JSON.parse(row.doc)`).
   *
   * @example
   * await client.transaction(async (tx) => {
   *   await tx.writeMessage({ streamName: 'account-1', type: 'Deposited', data: { amount: 10 } })
   *   await tx.query('UPDATE balances SET amount = amount + $1 WHERE id = $2', [10, 'account-1'])
   * })
   */
  async query(sql: string, params: readonly unknown[] = [], options: SqlOptions = {}): Promise<SqlRow[]> {
    checkSql(sql, params);
    try {
      return await this.#sql(sql, params, { signal: options.signal });
    } catch (error) {
      throw fromPostgresError(error);
    }
  }
}
