/**
 * A real TCP proxy on loopback for fault injection: it forwards bytes both ways and can be armed to
 * swallow the server's next reply and cut the connection, so a statement commits on the server
 * while its acknowledgement is lost (what a network failure at the worst moment looks like).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { onFileEnd } from './databases.ts';

export interface TcpProxy {
  port: number;
  /** Cut every open connection after the server's next bytes, which are dropped. */
  cutAfterNextReply(): void;
  /** Pass on the first `bytes` bytes of the server's next reply, then cut every open connection. */
  cutPartwayThroughNextReply(bytes: number): void;
  /** Destroy every open connection now. */
  cutAll(): void;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /** Sees every chunk the server sends, before it is passed on (or dropped). */
  onServerBytes?: (chunk: Buffer) => void;
}

export async function startTcpProxy(targetHost: string, targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; server: Socket }>();
  let armed = false;
  /** Bytes of the next reply still to pass on before the cut, when armed that way. */
  let passBeforeCut: number | undefined;
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: targetHost, port: targetPort });
    const pair = { client, server: upstream };
    pairs.add(pair);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      options.onServerBytes?.(chunk);
      if (passBeforeCut !== undefined) {
        const passed = chunk.subarray(0, passBeforeCut);
        passBeforeCut = undefined;
        client.end(passed);
        upstream.destroy();
        return;
      }
      if (armed) {
        armed = false;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');
  return {
    port: address.port,
    cutAfterNextReply: () => {
      armed = true;
    },
    cutPartwayThroughNextReply: (bytes) => {
      passBeforeCut = bytes;
    },
    cutAll: () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.server.destroy();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.server.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

/**
 * A proxy in front of the server of `url`, closed when the test file ends, and `url` with its host
 * and port changed to go through it.
 */
export async function proxyFor(url: string, options: TcpProxyOptions = {}): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432), options);
  onFileEnd(() => proxy.close());
  const viaProxy = new URL(url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return { proxy, url: viaProxy.toString() };
}
