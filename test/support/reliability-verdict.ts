/**
 * The invariants of the reliability suite, checked over what the writers were told (acks), what
 * the store holds, and what the consumers handled. It returns figures and a list of problems
 * (empty when every invariant holds), so a failing run says all that went wrong at once.
 */
import type { Message } from '../../src/index.ts';
import type { Ack, LoadData } from './reliability-workload.ts';

/** One message handled by one consumer run (a consumer instance or process, from its start to its end). */
export interface HandledRecord {
  /** The consumer group member. */
  member: number;
  /** Which run of that member's consumer of this category; runs of one consumer are numbered in time order. */
  run: number;
  id: string;
  streamName: string;
  position: number;
  globalPosition: number;
}

export interface Figures {
  /** Distinct messages whose write was acknowledged. */
  acked: number;
  /** Acknowledged messages missing from the store, or stored at another stream or position than acknowledged. */
  lost: number;
  stored: number;
  /** Stored messages no writer was told about (a write in flight when its writer died, not re-sent). */
  storedUnacked: number;
  /** Stored messages that repeat a writer's sequence number (a message written twice under two ids). */
  storedTwice: number;
  /** Handling calls, replays included. */
  handled: number;
  /** Handling calls beyond the first of each message. */
  duplicates: number;
  /** Stored messages no consumer handled. */
  unhandled: number;
}

export interface Verdict {
  figures: Figures;
  problems: string[];
}

const categoryOf = (streamName: string): string => streamName.slice(0, streamName.indexOf('-'));

export function verify(stored: readonly Message<LoadData>[], acks: readonly Ack[], handled: readonly HandledRecord[]): Verdict {
  const problems: string[] = [];
  const problem = (text: string): void => {
    if (problems.length < 20) problems.push(text);
    else if (problems.length === 20) problems.push('… (more problems left out)');
  };

  const byId = new Map(stored.map((message) => [message.id, message]));
  const acked = new Map<string, { streamName: string; position: number }>();
  for (const ack of acks) {
    ack.ids.forEach((id, index) => {
      const told = { streamName: ack.streamNames[index] as string, position: ack.positions[index] as number };
      const earlier = acked.get(id);
      if (earlier !== undefined && earlier.position !== told.position) problem(`${id} was acknowledged at positions ${earlier.position} and ${told.position}`);
      acked.set(id, told);
    });
  }
  let lost = 0;
  for (const [id, told] of acked) {
    const message = byId.get(id);
    if (message?.streamName === told.streamName && message.position === told.position) continue;
    lost++;
    problem(
      message === undefined
        ? `acknowledged ${id} (${told.streamName}/${told.position}) is not stored`
        : `${id} acknowledged at ${told.streamName}/${told.position}, stored at ${message.streamName}/${message.position}`,
    );
  }
  const storedUnacked = stored.filter((message) => !acked.has(message.id)).length;
  const sequences = new Set<string>();
  let storedTwice = 0;
  for (const message of stored) {
    const key = `${message.data.writer}/${message.data.sequence}`;
    if (sequences.has(key)) {
      storedTwice++;
      problem(`writer ${message.data.writer}'s message ${message.data.sequence} is stored twice`);
    }
    sequences.add(key);
  }

  const handledIds = new Set<string>();
  const memberOfStream = new Map<string, number>();
  for (const record of handled) {
    handledIds.add(record.id);
    if (!byId.has(record.id)) problem(`handled ${record.id}, which is not stored`);
    const member = memberOfStream.get(record.streamName);
    if (member !== undefined && member !== record.member) problem(`${record.streamName} was handled by members ${member} and ${record.member}`);
    memberOfStream.set(record.streamName, record.member);
  }
  const unhandled = stored.filter((message) => !handledIds.has(message.id)).length;
  if (unhandled > 0) problem(`${unhandled} stored messages were never handled`);
  checkOrder(handled, problem);

  return {
    figures: {
      acked: acked.size,
      lost,
      stored: stored.length,
      storedUnacked,
      storedTwice,
      handled: handled.length,
      duplicates: handled.length - handledIds.size,
      unhandled,
    },
    problems,
  };
}

/**
 * Within one consumer run, each stream's messages are handled in position order with none passed
 * over (each position is the one after the last); a later run of the same consumer may start a
 * stream again earlier (a replay), never past the next unhandled position.
 */
function checkOrder(handled: readonly HandledRecord[], problem: (text: string) => void): void {
  const last = new Map<string, { run: number; position: number }>();
  const highest = new Map<string, number>();
  for (const record of handled) {
    const consumerStream = `${record.member}/${categoryOf(record.streamName)}/${record.streamName}`;
    const previous = last.get(consumerStream);
    const top = highest.get(consumerStream) ?? -1;
    if (previous !== undefined && previous.run === record.run) {
      if (record.position !== previous.position + 1) {
        problem(`${record.streamName}: position ${record.position} handled after ${previous.position} in one run`);
      }
    } else if (record.position > top + 1) {
      problem(`${record.streamName}: a run started at position ${record.position}, past the next unhandled one (${top + 1})`);
    }
    last.set(consumerStream, { run: record.run, position: record.position });
    highest.set(consumerStream, Math.max(top, record.position));
  }
}

/** Median, and maximum, of some numbers (0 for none). */
export function spread(values: readonly number[]): { median: number; max: number } {
  if (values.length === 0) return { median: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] as number, max: sorted[sorted.length - 1] as number };
}
