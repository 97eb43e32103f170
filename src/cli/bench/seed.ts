/**
 * Seeding for the read-heavy workloads (consumers, memory): `count` messages in a category, with
 * gapless positions over 1000 streams. Seeding is not what is measured: on a server it inserts the
 * rows directly in one statement (write_message would take minutes for a million); PGlite has no
 * URL to connect to, so there the client writes them in batches of 1000.
 */
import pg from 'pg';
import type { MessageDbClient } from '../../store/client.js';
import type { Metadata } from '../../vocabulary/message.js';
import { batchData, singleData, singleMetadata } from './fixtures.js';

/** The type of every seeded message. */
export const seededType = 'Deposited';

/**
 * What seeded messages hold. `anchor`: the rows `r_cat_full` and `c_pos100` read (data
 * `{"amount": 100}`, no metadata), so a consumer's rate and the anchor's are rates of the same rows.
 * `single`: the single-write anchor's data and metadata, heavier to send and to decode.
 */
export type SeedShape = 'anchor' | 'single';

const shapes: Record<SeedShape, { data: object; metadata: Metadata | null }> = {
  anchor: { data: batchData, metadata: null },
  single: { data: singleData, metadata: singleMetadata },
};

/** Where seeded messages go: a server database's URL, or a client (an embedded database). */
export type SeedTarget = string | MessageDbClient;

/** Message n goes to stream `<category>-<n % 1000>` at position `n / 1000`. */
export async function seedCategory(target: SeedTarget, category: string, count: number, shape: SeedShape = 'anchor'): Promise<void> {
  const { data, metadata } = shapes[shape];
  if (typeof target !== 'string') return seedThroughClient(target, category, count, data, metadata);
  const client = new pg.Client({ connectionString: target });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO message_store.messages (id, stream_name, type, position, data, metadata)
       SELECT gen_random_uuid(), $1::text || '-' || (n % 1000), $3::text, n / 1000, $4::jsonb, $5::jsonb
         FROM generate_series(0, $2::int - 1) AS n
        ORDER BY n`,
      [category, count, seededType, JSON.stringify(data), metadata === null ? null : JSON.stringify(metadata)],
    );
  } finally {
    await client.end();
  }
}

async function seedThroughClient(client: MessageDbClient, category: string, count: number, data: object, metadata: Metadata | null): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    const size = Math.min(1000, count - start);
    await client.writeMessages(
      Array.from({ length: size }, (_, index) => ({
        streamName: `${category}-${(start + index) % 1000}`,
        type: seededType,
        data,
        metadata,
      })),
    );
  }
}

/** Resolves once `tick()` was called `count` times; the handlers of the consumer workloads call it. */
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
