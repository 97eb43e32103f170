/**
 * A small HTTP endpoint for probes and scrapers: fixed paths, each answered by a function, served
 * until a signal fires. `messagedb consumers --metrics-port` serves `/metrics` with it, and a
 * component host its `/health`, `/ready` and `/metrics`.
 */
import { createServer, type Server } from 'node:http';

/** What a path answers. */
export interface EndpointResponse {
  status: number;
  contentType: string;
  body: string;
}

/** The paths served (`/metrics`, ...) and what answers each; anything else is a 404 listing them. */
export type EndpointRoutes = Readonly<Record<string, () => EndpointResponse | Promise<EndpointResponse>>>;

/** A listening endpoint: the bound port (the one asked for, or the one chosen for port 0), and when it has closed. */
export interface ServedEndpoint {
  port: number;
  closed: Promise<void>;
}

/**
 * Serve `routes` on host:port until `signal` fires (open connections are closed then). Resolves
 * once listening; rejects when the port cannot be bound. A route that throws answers 503 with the
 * error's name only (never its message: it could hold a connection string).
 */
export async function serveEndpoint(host: string, port: number, routes: EndpointRoutes, signal: AbortSignal): Promise<ServedEndpoint> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`try ${Object.keys(routes).join(', ')}\n`);
      return;
    }
    Promise.resolve()
      .then(route)
      .then(
        ({ status, contentType, body }) => response.writeHead(status, { 'content-type': contentType }).end(request.method === 'HEAD' ? undefined : body),
        // The database may be down for a moment: say so to the scraper, keep serving.
        (error: unknown) => response.writeHead(503, { 'content-type': 'text/plain' }).end(`failed: ${error instanceof Error ? error.name : 'error'}\n`),
      );
  });
  if (signal.aborted) throw signal.reason;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const closed = new Promise<void>((resolve) => {
    const close = (): void => {
      server.closeAllConnections();
      server.close(() => resolve());
    };
    if (signal.aborted) close();
    else signal.addEventListener('abort', close, { once: true });
  });
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : port, closed };
}
