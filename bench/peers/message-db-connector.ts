/**
 * `message-db-connector` (0.0.10): MessageDbWriter and MessageDbReader. Two things of its own
 * shape the figures, and BENCHMARKS.md records both:
 * - `Make()` ignores the connection it is given and always uses the hard-coded
 *   `postgresql://message_store@localhost:5432/message_store`; the bench swaps in a `DB` made by
 *   the package's own `DB.Make` with the bench database (plus `search_path`: its SQL is unqualified).
 * - `DB.query` releases every pooled connection with `release(true)`, which destroys it, so each
 *   call opens a new connection (a new server backend).
 * It has no batch write; its category read is `getStreamMessages` on a name without `-`.
 */
import { randomUUID } from 'node:crypto';
import connector from 'message-db-connector';
import dbModule from 'message-db-connector/lib/commonjs/message-db/db.js';
import * as fixtures from '../../src/cli/bench/fixtures.ts';
import { loopWorkload } from '../../src/cli/bench/client-workloads.ts';
import { consumerMessages, seededCategory } from '../../src/cli/bench/consumer.ts';
import { countdown, seededType } from '../../src/cli/bench/seed.ts';
import type { PeerConnection } from './peer.ts';

const { Levels, Message, MessageDbReader, MessageDbWriter, MessageStore, Subscription } = connector;
const { DB } = dbModule;

/** Their `Make` reads no connection option; replace the DB it made with one on the bench database. */
async function onDatabase<T extends object>(made: T, url: string): Promise<T> {
  const db = await DB.Make({
    pgConnectionConfig: { connectionString: url, options: '-c search_path=message_store,public' },
    logLevel: Levels.Off,
  });
  Object.assign(made, { db });
  return made;
}

export async function openMessageDbConnector(url: string): Promise<PeerConnection> {
  const pgConnectionConfig = { connectionString: url };
  const writer = await onDatabase(await MessageDbWriter.Make({ pgConnectionConfig, logLevel: Levels.Off }), url);
  const reader = await onDatabase(await MessageDbReader.Make({ pgConnectionConfig, logLevel: Levels.Off }), url);
  return {
    workloads: [
      loopWorkload('mdbc.single-write', async () => {
        const message = new Message({
          id: randomUUID(),
          streamName: `account-${fixtures.randomId()}`,
          type: 'Deposited',
          data: fixtures.singleData,
          metadata: fixtures.singleMetadata,
        });
        await writer.write(message);
        return 1;
      }),
      loopWorkload('mdbc.stream-read', async () => (await reader.getStreamMessages(fixtures.readStreamName, 0, fixtures.readBatchSize)).length),
      {
        // Its Subscription waits intervalTimeMs after every batch, full or not; the bench gives it
        // 1 ms (the default is 100) and batches of 1000 (default 100), its best settings.
        key: 'mdbc.consumer',
        whole: true,
        run: async () => {
          const category = await seededCategory(url, 'mdbcconsume');
          const { tick, finished } = countdown(consumerMessages);
          const messageStore = new MessageStore({ reader, writer, logLevel: Levels.Off });
          const subscription = new Subscription({
            messageStore,
            streamName: category,
            subscriberId: 'bench',
            batchSize: fixtures.readBatchSize,
            intervalTimeMs: 1,
            logLevel: Levels.Off,
          });
          subscription.registerHandler(async () => tick(), seededType);
          const started = performance.now();
          const running = subscription.start();
          await finished;
          const elapsedMs = performance.now() - started;
          subscription.signalStop();
          await running;
          return (consumerMessages * 1000) / elapsedMs;
        },
      },
      loopWorkload('mdbc.category-read', async () => (await reader.getStreamMessages(fixtures.readCategory, 1, fixtures.readBatchSize)).length),
    ],
    // Its pools hold no idle connection (each is destroyed after use); nothing to close.
    close: async () => {},
  };
}
