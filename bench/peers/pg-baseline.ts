/**
 * The hand-written baseline: node-postgres used the obvious way, as an application without a
 * Message DB client would. One `pool.query` per message (unnamed statements, JSON objects left
 * to the driver), BEGIN / N writes / COMMIT on one pooled connection for a batch, and rows mapped
 * to messages with the driver's default type parsing.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import * as fixtures from '../../src/cli/bench/fixtures.ts';
import { loopWorkload } from '../../src/cli/bench/client-workloads.ts';
import type { PeerConnection } from './peer.ts';

const writeSql = 'SELECT message_store.write_message($1, $2, $3, $4, $5)';
const streamSql = 'SELECT * FROM message_store.get_stream_messages($1, $2, $3)';
const categorySql = 'SELECT * FROM message_store.get_category_messages($1, $2, $3)';

interface Row {
  id: string;
  stream_name: string;
  type: string;
  position: string;
  global_position: string;
  data: string | null;
  metadata: string | null;
  time: Date;
}

function toMessage(row: Row) {
  return {
    id: row.id,
    streamName: row.stream_name,
    type: row.type,
    position: Number(row.position),
    globalPosition: Number(row.global_position),
    data: row.data === null ? null : JSON.parse(row.data),
    metadata: row.metadata === null ? null : JSON.parse(row.metadata),
    time: row.time,
  };
}

export async function openPgBaseline(url: string): Promise<PeerConnection> {
  const pool = new pg.Pool({ connectionString: url, options: '-c search_path=message_store,public', max: 10 });
  const message = fixtures.singleMessage;
  return {
    workloads: [
      loopWorkload('pg.single-write', async () => {
        const { streamName, type, data, metadata } = message();
        await pool.query(writeSql, [randomUUID(), streamName, type, data, metadata]);
        return 1;
      }),
      loopWorkload('pg.transaction-100', async () => {
        const streamName = fixtures.transactionStream();
        const connection = await pool.connect();
        try {
          await connection.query('BEGIN');
          for (let index = 0; index < 100; index++) {
            await connection.query(writeSql, [randomUUID(), streamName, 'Deposited', fixtures.batchData, null]);
          }
          await connection.query('COMMIT');
        } catch (error) {
          await connection.query('ROLLBACK');
          throw error;
        } finally {
          connection.release();
        }
        return 100;
      }),
      loopWorkload('pg.stream-read', async () => {
        const result = await pool.query<Row>(streamSql, [fixtures.readStreamName, 0, fixtures.readBatchSize]);
        return result.rows.map(toMessage).length;
      }),
      loopWorkload('pg.category-read', async () => {
        const result = await pool.query<Row>(categorySql, [fixtures.readCategory, 1, fixtures.readBatchSize]);
        return result.rows.map(toMessage).length;
      }),
    ],
    close: () => pool.end(),
  };
}
