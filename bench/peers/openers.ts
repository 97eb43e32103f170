/**
 * The contenders by name, each opened on the bench database in a host process of its own: this
 * client, Node's floor (no driver; measured beside the client) and the peers.
 */
import { openClient } from '../client-workloads.ts';
import { openEmmett } from './emmett.ts';
import { openMessageDbConnector } from './message-db-connector.ts';
import { openMessageStoreConnector } from './message-store-connector.ts';
import { openNodeFloor } from './node-floor.ts';
import type { PeerConnection } from './peer.ts';
import { openPgBaseline } from './pg-baseline.ts';

export const openers = {
  client: openClient,
  floor: openNodeFloor,
  pg: openPgBaseline,
  msc: openMessageStoreConnector,
  mdbc: openMessageDbConnector,
  emmett: openEmmett,
} satisfies Record<string, (url: string) => Promise<PeerConnection>>;

export type PeerName = keyof typeof openers;

/** The peers, without this client and the floor. */
export const peerNames = (Object.keys(openers) as PeerName[]).filter((name) => name !== 'client' && name !== 'floor');

export function openPeer(name: PeerName, url: string): Promise<PeerConnection> {
  const open = openers[name];
  if (open === undefined) return Promise.reject(new Error(`unknown peer ${String(name)}`));
  return open(url);
}
