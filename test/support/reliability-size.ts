/**
 * The size of the reliability suite: one code path, two sizes. `npm test` runs the reduced size;
 * `npm run test:soak` sets MESSAGE_DB_SOAK=1 for the full size of issue 7.
 */

/** The load-with-faults run. */
export interface LoadSize {
  messages: number;
  streams: number;
  categories: number;
  writers: number;
  /** Writers (numbered from 0) that write with an expected version. */
  expectedVersionWriters: number;
  /** Messages per write: 1 (writeMessage) up to this (writeMessages). */
  maxBatch: number;
  groupSize: number;
  concurrency: number;
  batchSize: number;
  positionUpdateInterval: number;
  /** Every backend of the database is terminated this often while writers run. */
  terminateEveryMs: number;
  /** The server is restarted once, when this share of the messages has been acknowledged. */
  restartAt: number;
}

/** The process-crash run. */
export interface CrashSize {
  writers: number;
  messagesPerWriter: number;
  streams: number;
  categories: number;
  groupSize: number;
  concurrency: number;
  batchSize: number;
  positionUpdateInterval: number;
  /** A writer process pauses this long between batches, so the run lasts long enough for many kills. */
  writerPauseMs: number;
  /** A random writer or consumer process is killed with SIGKILL about this often (a random wait from half to twice this)... */
  killEveryMs: number;
  /** ...until the writers are done, or this many were killed. */
  maxKills: number;
}

/** Fast-check runs per property. */
export interface PropertySize {
  runs: number;
}

/** True for `npm run test:soak`. */
export const soak = process.env.MESSAGE_DB_SOAK === '1';

export const loadSize: LoadSize = soak
  ? {
      messages: 100_000,
      streams: 1000,
      categories: 10,
      writers: 8,
      expectedVersionWriters: 3,
      maxBatch: 20,
      groupSize: 4,
      concurrency: 4,
      batchSize: 500,
      positionUpdateInterval: 100,
      terminateEveryMs: 3000,
      restartAt: 0.5,
    }
  : {
      messages: 5000,
      streams: 200,
      categories: 10,
      writers: 8,
      expectedVersionWriters: 3,
      maxBatch: 20,
      groupSize: 4,
      concurrency: 4,
      batchSize: 100,
      positionUpdateInterval: 100,
      terminateEveryMs: 1000,
      restartAt: 0.5,
    };

export const crashSize: CrashSize = soak
  ? {
      writers: 4,
      messagesPerWriter: 5000,
      streams: 400,
      categories: 4,
      groupSize: 3,
      concurrency: 4,
      batchSize: 100,
      positionUpdateInterval: 50,
      writerPauseMs: 20,
      killEveryMs: 1500,
      maxKills: 100,
    }
  : {
      writers: 3,
      messagesPerWriter: 600,
      streams: 60,
      categories: 2,
      groupSize: 2,
      concurrency: 4,
      batchSize: 50,
      positionUpdateInterval: 20,
      writerPauseMs: 50,
      killEveryMs: 800,
      maxKills: 8,
    };

export const propertySize: PropertySize = soak ? { runs: 1000 } : { runs: 100 };
