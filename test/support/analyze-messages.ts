/**
 * ANALYZE the messages table once the server's statistics have counted every row in it. A backend
 * reports its inserts to the statistics some time after its transaction (at most once a second,
 * and when idle or exiting), so an ANALYZE run at once could be followed by the report of rows it
 * already saw, and the table would look changed since its last analyze.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { adminQuery } from './databases.ts';

export async function analyzeMessages(url: string): Promise<void> {
  const [total] = await adminQuery<{ rows: string }>('SELECT count(*) AS rows FROM message_store.messages', [], url);
  const rows = Number(total?.rows);
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
    const [counted] = await adminQuery<{ changed: string }>(
      "SELECT n_mod_since_analyze AS changed FROM pg_stat_user_tables WHERE relid = 'message_store.messages'::regclass",
      [],
      url,
    );
    if (Number(counted?.changed) >= rows) break;
  }
  await adminQuery('ANALYZE message_store.messages', [], url);
}
