/**
 * Hold Message DB's write lock of a category from another session, as a long transaction would:
 * writes to that category wait until `release()`.
 */
import pg from 'pg';

export async function holdCategoryLock(url: string, category: string): Promise<{ release(): Promise<void> }> {
  const holder = new pg.Client({ connectionString: url, options: '-c search_path=message_store,public' });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT pg_advisory_xact_lock(hash_64($1))', [category]);
  return {
    release: async () => {
      await holder.query('COMMIT');
      await holder.end();
    },
  };
}
