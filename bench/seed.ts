/**
 * Server-side seeding for the read-heavy sections (consumers, memory): `count` messages in a
 * category, in one statement, with gapless positions over 1000 streams. Seeding is not what is
 * measured, so it inserts rows directly; write_message would take minutes for a million.
 */
import pg from 'pg';

/** The message every seeded row carries (the single-write anchor's data and metadata). */
export const seededType = 'Deposited';

export async function seedCategory(url: string, category: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO message_store.messages (id, stream_name, type, position, data, metadata)
       SELECT gen_random_uuid(), $1::text || '-' || (n % 1000), $3::text, n / 1000,
              '{"amount": 100, "currency": "USD"}'::jsonb, '{"correlationStreamName": "x-1"}'::jsonb
         FROM generate_series(0, $2::int - 1) AS n
        ORDER BY n`,
      [category, count, seededType],
    );
  } finally {
    await client.end();
  }
}

/** Resolves once `done()` was called `count` times; the handlers of the consumer benches call it. */
export function countdown(count: number): { tick: () => void; finished: Promise<void> } {
  let left = count;
  let resolve = (): void => {};
  const finished = new Promise<void>((onResolve) => {
    resolve = onResolve;
  });
  return {
    tick: () => {
      left--;
      if (left === 0) resolve();
    },
    finished,
  };
}
