/**
 * What every check gets: the settings, a read-only query, and the category survey and record
 * streams, each read once per `diagnose()` and shared by the checks that need them.
 */
import type { MessageDbClient } from '../store/client.js';
import type { DiagnoseSettings, Finding } from './finding.js';
import * as statements from './statements.js';

/** One category of the store, from the survey. */
export interface CategoryFacts {
  category: string;
  /** The newest global position. */
  head: number;
  /** Seconds since its newest message was written. */
  ageSeconds: number;
  /** How many of its newest messages the sizes are averaged over. */
  sampled: number;
  dataBytes: number;
  metadataBytes: number;
}

/** A position or snapshot stream: how many records it holds, and its last one. */
export interface RecordStream {
  streamName: string;
  records: number;
  /** The last record's `position` (data), or null when it has none. */
  recordedPosition: number | null;
  metadataText: string | null;
  ageSeconds: number;
}

/** Rows as `client.query()` gives them: objects keyed by column name, each value text or null. */
export type Rows = Awaited<ReturnType<MessageDbClient['query']>>;

export interface DoctorContext {
  settings: DiagnoseSettings;
  query(sql: string, params?: readonly unknown[]): Promise<Rows>;
  /** The store's categories (at most `maxCategories`), and whether there were more. */
  survey(): Promise<{ categories: CategoryFacts[]; truncated: boolean }>;
  /** The streams of a position or snapshot category. */
  recordStreams(category: string): Promise<RecordStream[]>;
}

/** A check: the findings of one code (none when all is well). */
export type Check = (context: DoctorContext) => Promise<Finding[]>;

/** A number from a row's text value; NaN when absent. */
export function numberOf(value: unknown): number {
  return value === null || value === undefined ? Number.NaN : Number(value);
}

function memoize<T>(read: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= read();
    return promise;
  };
}

export function doctorContext(client: MessageDbClient, settings: DiagnoseSettings): DoctorContext {
  const { signal } = settings;
  const query = (sql: string, params: readonly unknown[] = []): Promise<Rows> => client.query(sql, params, { signal, readOnly: true });
  const survey = memoize(async () => {
    const rows = await query(statements.categorySurvey, [settings.maxCategories + 1, settings.sampleSize]);
    const categories = rows.slice(0, settings.maxCategories).map((row) => ({
      category: String(row.category),
      head: numberOf(row.head),
      ageSeconds: numberOf(row.age_seconds),
      sampled: numberOf(row.sampled),
      dataBytes: numberOf(row.data_bytes),
      metadataBytes: numberOf(row.metadata_bytes),
    }));
    return { categories, truncated: rows.length > settings.maxCategories };
  });
  const streams = new Map<string, Promise<RecordStream[]>>();
  const recordStreams = (category: string): Promise<RecordStream[]> => {
    let read = streams.get(category);
    if (read === undefined) {
      read = query(statements.recordStreams, [category]).then((rows) =>
        rows.map((row) => {
          const position = numberOf(row.recorded_position);
          return {
            streamName: String(row.stream_name),
            records: numberOf(row.records),
            recordedPosition: Number.isSafeInteger(position) && position >= 0 ? position : null,
            metadataText: row.metadata === null || row.metadata === undefined ? null : String(row.metadata),
            ageSeconds: numberOf(row.age_seconds),
          };
        }),
      );
      streams.set(category, read);
    }
    return read;
  };
  return { settings, query, survey, recordStreams };
}
