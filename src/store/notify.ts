/**
 * The opt-in low-latency wake-up: a trigger that sends a NOTIFY per category on every write, and
 * the channel names consumers listen on. It is never part of `install()`: Message DB itself has no
 * trigger, and the maintainers consider polling enough. Polling stays the source of truth, so a
 * lost notification only costs one poll interval.
 */
import { createHash } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import type { Runner } from '../engine/runner.js';
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

/** Add (or replace) the NOTIFY trigger, in one transaction. */
export async function installNotifyTrigger(engine: Engine): Promise<void> {
  await engine.transaction(async (queryable) => {
    // Serialise concurrent installers: DROP/CREATE TRIGGER on one table would otherwise race.
    await queryable.exec(`SET LOCAL client_min_messages TO warning; LOCK TABLE message_store.messages IN SHARE ROW EXCLUSIVE MODE; ${sql.installNotifyTrigger}`);
  });
}

/** Remove the NOTIFY trigger and its function. */
export async function uninstallNotifyTrigger(engine: Engine): Promise<void> {
  await engine.transaction(async (queryable) => {
    await queryable.exec(`SET LOCAL client_min_messages TO warning; ${sql.uninstallNotifyTrigger}`);
  });
}

/** True when the NOTIFY trigger is installed. */
export async function hasNotifyTrigger(runner: Runner, signal?: AbortSignal): Promise<boolean> {
  const rows = await runner.run(sql.notifyTriggerInstalled, [], signal);
  const value = rows[0]?.[0];
  return value === true || value === 't';
}
