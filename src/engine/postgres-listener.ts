/**
 * LISTEN on a server through postgres.js' `listen`: one connection of its own, outside the pool (a
 * pooled connection would drop its LISTENs when closed), shared by every channel of one engine.
 * postgres.js reconnects it when it is lost and LISTENs again, calling `onlisten` each time: after
 * the first, the subscriber is told that notifications may have been missed (a `null` payload).
 */
import postgres from 'postgres';
import { isConnectionFault } from '../vocabulary/postgres-error.js';
import type { NotificationHandler, Unlisten } from './engine.js';
import type { PostgresTarget } from './postgres-options.js';

/** The listening connection of one engine. */
export class PostgresListener {
  readonly #sql: postgres.Sql;
  #closed = false;

  constructor(options: PostgresTarget['options']) {
    this.#sql = postgres({ ...options, max: 1 });
  }

  /**
   * Subscribe; resolves once LISTEN ran. When the server cannot be reached, it resolves all the
   * same: postgres.js keeps trying, and the subscriber gets `null` once it listens.
   */
  async listen(channel: string, onNotification: NotificationHandler): Promise<Unlisten> {
    let subscribed = true;
    // Set once a LISTEN ran (or failed for the connection): any later one follows a reconnect.
    let listened = false;
    const onlisten = (): void => {
      if (listened && subscribed) onNotification(null);
      listened = true;
    };
    const notify = (payload: string): void => {
      if (subscribed) onNotification(payload);
    };
    let request: postgres.ListenMeta | undefined;
    try {
      request = await this.#sql.listen(channel, notify, onlisten);
    } catch (error) {
      if (!isConnectionFault(error) || this.#closed) throw error;
      listened = true;
    }
    return async () => {
      subscribed = false;
      await request?.unlisten().catch(() => {});
    };
  }

  /** Close the connection; no reconnects after this. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#sql.end({ timeout: 0 }).catch(() => {});
  }
}
