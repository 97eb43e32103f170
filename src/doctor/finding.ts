/**
 * What `diagnose()` reports: findings, each with a stable code, a severity, the thing it is about,
 * what was seen, what to do, and the section of docs/tuning.md that explains it.
 */
import { InvalidArgumentError } from '../vocabulary/errors.js';

/** How much a finding matters: `info` is context, `warning` wants attention, `error` is broken. */
export type FindingSeverity = 'info' | 'warning' | 'error';

/** The checks `diagnose()` runs, by the code of their findings. */
export type FindingCode =
  | 'consumer-lag'
  | 'stale-statistics'
  | 'position-stream-growth'
  | 'large-messages'
  | 'sql-condition-enabled'
  | 'hot-category-lock'
  | 'server-settings';

/** Every check's code, in the order `diagnose()` runs them. */
export const findingCodes: readonly FindingCode[] = [
  'consumer-lag',
  'stale-statistics',
  'position-stream-growth',
  'large-messages',
  'sql-condition-enabled',
  'hot-category-lock',
  'server-settings',
];

/** One thing `diagnose()` found on a store. */
export interface Finding {
  code: FindingCode;
  severity: FindingSeverity;
  /** What it is about: a position stream, a category, a table, a setting, a database or role. */
  subject: string;
  /** What was seen, with the figures. */
  detail: string;
  /** What to do about it. */
  advice: string;
  /** The section of the tuning guide that explains it, e.g. `docs/tuning.md#consumer-lag`. */
  link: string;
}

/** Thresholds of `diagnose()`; every one has a default. */
export interface DiagnoseOptions {
  signal?: AbortSignal;
  /** A consumer this many messages behind its category's head is lagging (default 1000). */
  lagMessages?: number;
  /** A consumer behind by any message whose last position record is this old is lagging (default 300 s). */
  lagSeconds?: number;
  /** Changes since the last analyze, as a share of the rows the planner thinks there are, that make statistics stale (default 0.2, at least 1000 rows). */
  staleRatio?: number;
  /** A position or snapshot stream with more records than this has grown (default 200). */
  positionRecords?: number;
  /** A category whose newest messages average more bytes of data and metadata than this holds large messages (default 16384). */
  largeMessageBytes?: number;
  /** How many of each category's newest messages the size estimate reads (default 100). */
  sampleSize?: number;
  /** A session waiting longer than this on a category lock is a warning; shorter waits are info (default 1000 ms). */
  lockWaitMs?: number;
  /** At most this many categories are surveyed (default 10000); more are reported as info. */
  maxCategories?: number;
}

/** The options with their defaults filled in. */
export type DiagnoseSettings = Required<Omit<DiagnoseOptions, 'signal'>> & { signal: AbortSignal | undefined };

/** Throws InvalidArgumentError naming the first option that is not a positive number (an integer where counted). */
export function diagnoseSettings(options: DiagnoseOptions = {}): DiagnoseSettings {
  const counts = ['lagMessages', 'positionRecords', 'largeMessageBytes', 'sampleSize', 'maxCategories'] as const;
  for (const name of counts) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw new InvalidArgumentError(name, `must be a positive integer (got ${String(value)})`);
    }
  }
  for (const name of ['lagSeconds', 'staleRatio', 'lockWaitMs'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new InvalidArgumentError(name, `must be a number of at least 0 (got ${String(value)})`);
    }
  }
  return {
    signal: options.signal,
    lagMessages: options.lagMessages ?? 1000,
    lagSeconds: options.lagSeconds ?? 300,
    staleRatio: options.staleRatio ?? 0.2,
    positionRecords: options.positionRecords ?? 200,
    largeMessageBytes: options.largeMessageBytes ?? 16384,
    sampleSize: options.sampleSize ?? 100,
    lockWaitMs: options.lockWaitMs ?? 1000,
    maxCategories: options.maxCategories ?? 10000,
  };
}

/** The guide's section for a finding code. */
export function tuningLink(code: FindingCode): string {
  return `docs/tuning.md#${code}`;
}
