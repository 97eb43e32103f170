/**
 * The opt-in low-latency wake-up: a trigger that sends a NOTIFY per category on every write, and
 * the channel names consumers listen on. It is never part of `install()`: Message DB itself has no
 * trigger, and the maintainers consider polling enough. Polling stays the source of truth, so a
 * lost notification only costs one poll interval.
 */
import { createHash } from 'node:crypto';
import { clientInternals } from '../store/client.js';
import type { MessageDbClient } from '../store/client.js';
import { fromPostgresError } from '../vocabulary/postgres-error.js';
import * as sql from '../vocabulary/sql.js';
import * as validate from '../vocabulary/validate.js';

/** PostgreSQL truncates nothing: a longer channel name is an error, so long names are hashed. */
const maxChannelBytes = 63;

/**
 * The channel the NOTIFY trigger uses for `category`: `messagedb:<category>`, or
 * `messagedb:<md5 of category>` when that would be longer than 63 bytes (the trigger's rule).
 *
 * @example notifyChannel('account') // 'messagedb:account'
 */
export function notifyChannel(category: string): string {
  const name = validate.categoryName(category);
  const channel = `messagedb:${name}`;
  if (Buffer.byteLength(channel, 'utf8') <= maxChannelBytes) return channel;
  return `messagedb:${createHash('md5').update(name, 'utf8').digest('hex')}`;
}

/**
 * Add the opt-in NOTIFY trigger to `client`'s database: every write then notifies its category's
 * channel (`notifyChannel(category)`), so consumers created with `listen: true` wake at once instead
 * of at their next poll. Not part of `install()`; it adds a little to every write. Idempotent: it
 * replaces the trigger in one transaction that serialises concurrent installers.
 */
export async function installNotifyTrigger(client: MessageDbClient): Promise<void> {
  const { engine, assertOpen } = clientInternals(client);
  assertOpen();
  try {
    await engine.transaction(async (queryable) => {
      // Serialise concurrent installers: DROP/CREATE TRIGGER on one table would otherwise race.
      await queryable.exec(
        `SET LOCAL client_min_messages TO warning; LOCK TABLE message_store.messages IN SHARE ROW EXCLUSIVE MODE; ${sql.installNotifyTrigger}`,
      );
    });
  } catch (error) {
    throw fromPostgresError(error);
  }
}

/** Remove the NOTIFY trigger and its function from `client`'s database (Message DB itself is left as it is). Idempotent. */
export async function uninstallNotifyTrigger(client: MessageDbClient): Promise<void> {
  const { engine, assertOpen } = clientInternals(client);
  assertOpen();
  try {
    await engine.transaction(async (queryable) => {
      await queryable.exec(`SET LOCAL client_min_messages TO warning; ${sql.uninstallNotifyTrigger}`);
    });
  } catch (error) {
    throw fromPostgresError(error);
  }
}

/** True when the NOTIFY trigger is installed in `client`'s database. */
export async function hasNotifyTrigger(client: MessageDbClient, options: { signal?: AbortSignal } = {}): Promise<boolean> {
  const { primary, assertOpen } = clientInternals(client);
  assertOpen();
  const rows = await primary.run(sql.notifyTriggerInstalled, [], options.signal);
  const value = rows[0]?.[0];
  return value === true || value === 't';
}
