/**
 * A real TCP proxy on loopback for the reliability suite's network faults: the server goes away
 * (every connection cut and new ones dropped at once), or turns into a black hole (connections stay
 * open, bytes stop flowing both ways, as behind a dead router), and comes back.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface FaultProxy {
  readonly port: number;
  /** Forward again (after `down()`, or `blackHole()`, whose connections are cut first). */
  up(): void;
  /** Cut every connection, and drop new ones as soon as they arrive. */
  down(): void;
  /** Keep every connection open but forward nothing, either way; new connections hear nothing too. */
  blackHole(): void;
  close(): Promise<void>;
}

type Mode = 'up' | 'down' | 'black hole';

/** Start a proxy to `targetHost:targetPort` on a free loopback port. */
export async function startFaultProxy(targetHost: string, targetPort: number): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let mode: Mode = 'up';
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (mode === 'down') {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: targetHost, port: targetPort });
    track(upstream);
    client.on('data', (chunk) => mode === 'up' && upstream.write(chunk));
    upstream.on('data', (chunk) => mode === 'up' && client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');
  const cutAll = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: address.port,
    up: () => {
      // A connection that went through the black hole lost bytes: its protocol stream is broken.
      if (mode === 'black hole') cutAll();
      mode = 'up';
    },
    down: () => {
      mode = 'down';
      cutAll();
    },
    blackHole: () => {
      mode = 'black hole';
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
