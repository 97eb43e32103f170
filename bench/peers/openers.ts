/** The peer clients by name, each opened on the bench database. */
import { openEmmett } from './emmett.ts';
import { openMessageDbConnector } from './message-db-connector.ts';
import { openMessageStoreConnector } from './message-store-connector.ts';
import type { PeerConnection } from './peer.ts';
import { openPgBaseline } from './pg-baseline.ts';

export const openers = {
  pg: openPgBaseline,
  msc: openMessageStoreConnector,
  mdbc: openMessageDbConnector,
  emmett: openEmmett,
} satisfies Record<string, (url: string) => Promise<PeerConnection>>;

export type PeerName = keyof typeof openers;

export function openPeer(name: PeerName, url: string): Promise<PeerConnection> {
  const open = openers[name];
  if (open === undefined) return Promise.reject(new Error(`unknown peer ${String(name)}`));
  return open(url);
}
