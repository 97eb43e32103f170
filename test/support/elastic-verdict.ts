/**
 * What the elastic group tests check over the handler intervals the members printed
 * (test/support/elastic-member.ts): every message handled, each stream in order, no stream handled
 * by two members at once (except what a paused member had in flight when it was paused), and how
 * many messages were handled more than once.
 */

/** One handler call: which member, which message, when it started and ended (ms since the epoch). */
export interface HandlerInterval {
  member: string;
  globalPosition: number;
  streamName: string;
  position: number;
  start: number;
  /** When it ended; a member killed mid-call gets its kill time. */
  end: number;
}

/** A member stopped with SIGSTOP from `from` to `to` (ms since the epoch). */
export interface Pause {
  member: string;
  from: number;
  to: number;
}

export interface ElasticVerdict {
  problems: string[];
  /** Handler calls beyond the first of each message. */
  replays: number;
  /** The paused member's calls, in flight when it was paused, that overlapped another member's call of the same stream. */
  pausedOverlaps: number;
  /** The longest of those, in ms: how long the paused member's call ran on after the other member began a call of the stream. */
  pausedOverlapMs: number;
}

export function verifyElastic(intervals: readonly HandlerInterval[], globalPositions: readonly number[], pauses: readonly Pause[]): ElasticVerdict {
  const problems: string[] = [];
  const problem = (text: string): void => {
    if (problems.length < 20) problems.push(text);
  };
  const handled = new Map<number, number>();
  for (const interval of intervals) handled.set(interval.globalPosition, (handled.get(interval.globalPosition) ?? 0) + 1);
  const missing = globalPositions.filter((position) => !handled.has(position));
  if (missing.length > 0) problem(`${missing.length} messages never handled (first: ${missing.slice(0, 5).join(', ')})`);
  const replays = [...handled.values()].reduce((sum, count) => sum + count - 1, 0);

  const byStream = new Map<string, HandlerInterval[]>();
  for (const interval of intervals) {
    const list = byStream.get(interval.streamName) ?? [];
    list.push(interval);
    byStream.set(interval.streamName, list);
  }
  const inFlightAtPause = (interval: HandlerInterval): boolean =>
    pauses.some((pause) => pause.member === interval.member && interval.start <= pause.from && interval.end >= pause.from);
  const pausedOverlapping = new Set<HandlerInterval>();
  let pausedOverlapMs = 0;
  for (const [streamName, list] of byStream) {
    list.sort((a, b) => a.start - b.start);
    // In order: a message starts only after its predecessor in the stream has ended once.
    const firstEnd = new Map<number, number>();
    for (const interval of list) firstEnd.set(interval.position, Math.min(firstEnd.get(interval.position) ?? Number.POSITIVE_INFINITY, interval.end));
    for (const interval of list) {
      if (interval.position === 0) continue;
      const previousEnd = firstEnd.get(interval.position - 1);
      if (previousEnd === undefined || previousEnd > interval.start) {
        problem(`${streamName}/${interval.position} started (${interval.member}) before ${interval.position - 1} had been handled`);
      }
    }
    // Never two members at once.
    for (let i = 0; i < list.length; i++) {
      const a = list[i] as HandlerInterval;
      for (let j = i + 1; j < list.length; j++) {
        const b = list[j] as HandlerInterval;
        if (b.start >= a.end) break;
        if (a.member === b.member) continue;
        if (inFlightAtPause(a) || inFlightAtPause(b)) {
          const [paused, other] = inFlightAtPause(a) ? [a, b] : [b, a];
          pausedOverlapping.add(paused);
          pausedOverlapMs = Math.max(pausedOverlapMs, paused.end - other.start);
          continue;
        }
        problem(`${streamName}: ${a.member} (${a.position}) and ${b.member} (${b.position}) handled it at the same time`);
      }
    }
  }
  return { problems, replays, pausedOverlaps: pausedOverlapping.size, pausedOverlapMs };
}
