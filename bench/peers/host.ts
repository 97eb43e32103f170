/**
 * A child process that hosts one peer client, so peers cannot change each other's (or this
 * client's) driver state: Emmett, for one, replaces node-postgres' global type parsers. The
 * parent sends `{ run: key, durationMs }` over IPC and gets `{ key, rate }` back.
 * The database URL comes in MESSAGE_DB_BENCH_PEER_URL, not argv, so no password shows in `ps`.
 */
import { openPeer, type PeerName } from './openers.ts';

export type HostRequest = { run: string; durationMs: number } | { close: true };
export type HostReply = { ready: true; keys: string[]; whole: string[]; notes: string[] } | { key: string; rate: number } | { failed: string };

const send = (reply: HostReply): void => void process.send?.(reply);
const peer = process.argv[2] as PeerName;
const url = process.env.MESSAGE_DB_BENCH_PEER_URL as string;

// Without its parent (a bench stopped by a signal), the host has nothing left to do.
process.on('disconnect', () => process.exit(0));

try {
  const connection = await openPeer(peer, url);
  const byKey = new Map(connection.workloads.map((workload) => [workload.key, workload]));
  process.on('message', (request: HostRequest) => {
    if ('close' in request) {
      void connection.close().finally(() => process.exit(0));
      return;
    }
    const workload = byKey.get(request.run);
    if (workload === undefined) return send({ failed: `no workload ${request.run}` });
    workload.run(request.durationMs).then(
      (rate) => send({ key: request.run, rate }),
      (error: unknown) => send({ failed: `${request.run}: ${error instanceof Error ? error.message : String(error)}` }),
    );
  });
  const whole = connection.workloads.filter((workload) => workload.whole === true).map((workload) => workload.key);
  send({ ready: true, keys: [...byKey.keys()], whole, notes: connection.notes ?? [] });
} catch (error) {
  send({ failed: `${peer} did not open: ${error instanceof Error ? error.message : String(error)}` });
  process.exit(1);
}
