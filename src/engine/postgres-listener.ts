/**
 * LISTEN on a server: one dedicated node-postgres connection outside the pool (a pooled connection
 * would drop its LISTENs when released), shared by every channel of one engine. When the
 * connection is lost it reconnects with capped exponential backoff, LISTENs again, and tells every
 * subscriber that notifications may have been missed (a `null` payload).
 */
import pg from 'pg';
import { isConnectionFault } from '../vocabulary/postgres-error.js';
import * as sql from '../vocabulary/sql.js';
import type { NotificationHandler, Unlisten } from './engine.js';

const initialDelayMs = 100;
const maxDelayMs = 5000;

/** One listening connection and its subscribers, channel by channel. */
export class PostgresListener {
  readonly #config: pg.ClientConfig;
  readonly #handlers = new Map<string, Set<NotificationHandler>>();
  #client: pg.Client | undefined;
  /** Every connect, LISTEN and UNLISTEN runs in this order, one at a time. */
  #queue: Promise<void> = Promise.resolve();
  #reconnectTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #closed = false;

  constructor(config: pg.ClientConfig) {
    this.#config = { ...config, keepAlive: true };
  }

  /** Subscribe; resolves once LISTEN ran, or once a reconnect is scheduled if the server is unreachable. */
  listen(channel: string, onNotification: NotificationHandler): Promise<Unlisten> {
    return this.#serially(async () => {
      let handlers = this.#handlers.get(channel);
      const firstOnChannel = handlers === undefined;
      if (handlers === undefined) this.#handlers.set(channel, (handlers = new Set()));
      handlers.add(onNotification);
      try {
        if (this.#client === undefined) {
          if (this.#reconnectTimer === undefined) await this.#connect(false);
        } else if (firstOnChannel) {
          await this.#client.query(sql.listen(channel));
        }
      } catch (error) {
        if (!isConnectionFault(error)) {
          this.#remove(channel, onNotification);
          throw error;
        }
        // The connection's 'error'/'end' events schedule the reconnect, which LISTENs again.
      }
      return () => this.#serially(() => this.#unlisten(channel, onNotification));
    });
  }

  /** Close the connection; no reconnects after this. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    await this.#serially(() => this.#disconnect());
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  async #unlisten(channel: string, onNotification: NotificationHandler): Promise<void> {
    if (!this.#remove(channel, onNotification)) return;
    if (this.#handlers.size === 0) return this.#disconnect();
    await this.#client?.query(sql.unlisten(channel)).catch(() => {});
  }

  /** Drop a subscriber; true when it was the channel's last. */
  #remove(channel: string, onNotification: NotificationHandler): boolean {
    const handlers = this.#handlers.get(channel);
    if (handlers === undefined || !handlers.delete(onNotification) || handlers.size > 0) return false;
    this.#handlers.delete(channel);
    return true;
  }

  async #disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    await client?.end().catch(() => {});
  }

  /** Open the connection and LISTEN on every channel; a connection fault schedules a retry. */
  async #connect(reconnecting: boolean): Promise<void> {
    if (this.#closed || this.#handlers.size === 0) return;
    const client = new pg.Client(this.#config);
    const lost = (): void => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.end().catch(() => {});
      this.#scheduleReconnect();
    };
    // Without an 'error' listener a terminated backend would crash the process.
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (notification) => {
      for (const handler of this.#handlers.get(notification.channel) ?? []) handler(notification.payload ?? '');
    });
    try {
      await client.connect();
      for (const channel of this.#handlers.keys()) await client.query(sql.listen(channel));
    } catch (error) {
      client.removeListener('end', lost);
      await client.end().catch(() => {});
      if (!isConnectionFault(error) && !reconnecting) throw error;
      this.#scheduleReconnect();
      return;
    }
    this.#client = client;
    this.#attempt = 0;
    if (reconnecting) {
      for (const handlers of this.#handlers.values()) for (const handler of handlers) handler(null);
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== undefined || this.#handlers.size === 0) return;
    this.#attempt++;
    const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (this.#attempt - 1));
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#serially(() => this.#connect(true)).catch(() => this.#scheduleReconnect());
    }, delayMs);
    // A pending reconnect must not keep the process alive on its own.
    this.#reconnectTimer.unref();
  }
}
