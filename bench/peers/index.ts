/**
 * Opens every peer client in a child process of its own (host.ts) and hands the bench proxy
 * workloads that run there. A peer that fails to open or to run is recorded as a note with the
 * reason, never as a made-up row.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Workload } from '../../src/cli/bench/measure.ts';
import type { HostReply, HostRequest } from './host.ts';
import { peerNames, type PeerName } from './openers.ts';

const hostPath = fileURLToPath(new URL('./host.ts', import.meta.url));

export interface OpenedPeers {
  workloads: Workload[];
  notes: string[];
  close(): Promise<void>;
}

function nextReply(child: ChildProcess): Promise<HostReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: HostReply): void => {
      child.off('exit', onExit);
      resolve(reply);
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`peer process exited (${code})`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}

async function openHost(peer: PeerName, url: string): Promise<{ child: ChildProcess; workloads: Workload[]; notes: string[] }> {
  const child = fork(hostPath, [peer], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, MESSAGE_DB_BENCH_PEER_URL: url },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = await nextReply(child);
  if (!('ready' in ready)) {
    child.kill();
    throw new Error('failed' in ready ? ready.failed : `${peer}: unexpected reply`);
  }
  // One request at a time: the bench runs workloads one after another.
  const workloads = ready.keys.map(
    (key): Workload => ({
      key,
      whole: ready.whole.includes(key),
      run: async (durationMs) => {
        const reply = nextReply(child);
        child.send({ run: key, durationMs } satisfies HostRequest);
        const answer = await reply;
        if ('rate' in answer) return answer.rate;
        throw new Error('failed' in answer ? answer.failed : `${key}: unexpected reply`);
      },
    }),
  );
  return { child, workloads, notes: ready.notes };
}

/**
 * Open each named contender (default: every peer) in its own process; a contender whose workload
 * fails later reports NaN for it and a note.
 */
export async function openPeers(url: string, log: (line: string) => void = () => {}, names: readonly PeerName[] = peerNames): Promise<OpenedPeers> {
  const children: ChildProcess[] = [];
  const workloads: Workload[] = [];
  const notes: string[] = [];
  for (const peer of names) {
    try {
      const host = await openHost(peer, url);
      children.push(host.child);
      notes.push(...host.notes);
      for (const workload of host.workloads) {
        let reported = false;
        workloads.push({
          key: workload.key,
          whole: workload.whole,
          run: (durationMs) =>
            workload.run(durationMs).catch((error: unknown) => {
              const reason = error instanceof Error ? error.message : String(error);
              if (!reported) notes.push(`${workload.key} failed: ${reason}`);
              reported = true;
              log(`  ${workload.key} failed: ${reason}`);
              return Number.NaN;
            }),
        });
      }
    } catch (error) {
      notes.push(`${peer}: ${error instanceof Error ? error.message : String(error)}`);
      log(`  ${peer} did not open`);
    }
  }
  return {
    workloads,
    notes,
    close: async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.send({ close: true } satisfies HostRequest);
              setTimeout(() => child.kill(), 5000).unref();
            }),
        ),
      );
    },
  };
}
