/**
 * The console's web server (node:http): the page for every view's URL, the browser's files, the
 * JSON API, the live tail; the access rules of ConsoleAccess on every request. Every response says
 * what the browser may run (a Content-Security-Policy allowing only the console's own files and the
 * page's import map), so even a message that held markup could not run anything; the page renders
 * message contents as text in any case.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessageDbClient } from '../store/client.js';
import { isMessageDbError } from '../vocabulary/errors.js';
import { ConsoleApi } from './console-api.js';
import { loadAssets, pageHtml } from './console-assets.js';
import { positionParameter } from './console-reader.js';
import { ConsoleAccess, TOKEN_COOKIE } from './console-security.js';
import { serveLiveTail } from './live-tail.js';

/** How to start the console. */
export interface ConsoleConfig {
  client: MessageDbClient;
  /** The address to listen on (default 127.0.0.1). Any but a loopback address needs a token. */
  host?: string;
  /** The port (default 0: any free port). */
  port?: number;
  /** The token requests must carry; generated when absent. Given, it is required on loopback too. */
  token?: string;
  /** Allow write actions (default false: read-only). */
  allowWrites?: boolean;
  /** The database as it may be shown (no password). */
  target: string;
}

/** A running console. */
export interface RunningConsole {
  /** The URL to open (with the token when reads need it). */
  url: string;
  port: number;
  /** The token (writes always need it; reads too when `tokenRequired`). */
  token: string;
  tokenRequired: boolean;
  close(): Promise<void>;
}

/** The page's paths (each view's deep link); anything else is a file, the API, or 404. */
const pagePattern = /^\/(|categories\/[^/]+|streams\/[^/]+(\/\d+)?|messages\/[^/]+|consumers|replicas|search|dead-letters(\/[^/]+)?|doctor)$/;

function securityHeaders(nonce: string): Record<string, string> {
  return {
    'content-security-policy': `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra });
  response.end(JSON.stringify(body));
}

/** A PostgreSQL error the library passed through as it came: its SQLSTATE and message (which name no parameter). */
function serverError(error: unknown): { sqlState: string; message: string } | null {
  const sqlState = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) ? { sqlState, message: error.message } : null;
}

function errorStatus(error: unknown): number {
  // read_only_sql_transaction, insufficient_privilege: a read-only role refused a write.
  const server = serverError(error);
  if (server !== null) return server.sqlState === '25006' || server.sqlState === '42501' ? 403 : 500;
  if (!isMessageDbError(error)) return 500;
  if (error.code === 'INVALID_ARGUMENT') return 400;
  if (error.code === 'EXPECTED_VERSION' || error.code === 'DUPLICATE_MESSAGE_ID') return 409;
  if (error.code === 'PERMISSION_DENIED') return 403;
  return 500;
}

/** What a failed request says: the library's or the server's message; nothing else leaves the process. */
function errorMessage(error: unknown): string {
  if (isMessageDbError(error)) return error.message;
  if (error instanceof URIError) return 'a path segment is not valid percent-encoding';
  return serverError(error)?.message ?? 'internal error';
}

/** Start the console's server; resolves when it listens. */
export async function startConsole(config: ConsoleConfig): Promise<RunningConsole> {
  const host = config.host ?? '127.0.0.1';
  const access = new ConsoleAccess(host, config.token);
  const assets = loadAssets();
  const allowWrites = config.allowWrites ?? false;
  const api = new ConsoleApi({
    client: config.client,
    allowWrites,
    target: config.target,
    writeToken: access.token,
  });
  const closing = new AbortController();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://console.invalid');
    const nonce = randomBytes(16).toString('base64');
    for (const [name, value] of Object.entries(securityHeaders(nonce))) response.setHeader(name, value);
    const refusal = access.refuseRead(request, url);
    if (refusal !== null) return sendJson(response, 403, { error: refusal });
    const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const asset = assets.get(url.pathname);
    if (request.method === 'GET' && asset !== undefined) {
      response.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
      return void response.end(asset.body);
    }
    if (request.method === 'GET' && pagePattern.test(url.pathname)) {
      const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
      // The token given in the URL goes on in a cookie only this origin's requests carry.
      if (access.urlToken(url)) headers['set-cookie'] = `${TOKEN_COOKIE}=${access.token}; HttpOnly; SameSite=Strict; Path=/`;
      response.writeHead(200, headers);
      return void response.end(pageHtml(nonce));
    }
    if (segments[0] !== 'api') return sendJson(response, 404, { error: `no such page: ${url.pathname}` });
    const signal = AbortSignal.any([closing.signal, abortOnClose(request, response)]);
    const apiSegments = segments.slice(1);
    if (request.method === 'GET' && apiSegments[0] === 'categories' && apiSegments[2] === 'tail' && apiSegments[1] !== undefined) {
      const after = positionParameter('after', url.searchParams.get('after'), 0);
      return serveLiveTail(api.reader, apiSegments[1], url.searchParams.get('correlation'), after, response, signal);
    }
    const started = performance.now();
    let result: Awaited<ReturnType<ConsoleApi['get']>>;
    if (request.method === 'GET') result = await api.get(apiSegments, url.searchParams, signal);
    else if (request.method === 'POST') {
      if (!allowWrites) return sendJson(response, 403, { error: 'this console is read-only (start it with --allow-writes to write)' });
      const writeRefusal = access.refuseWrite(request);
      if (writeRefusal !== null) return sendJson(response, 403, { error: writeRefusal });
      result = await api.post(apiSegments, request, signal);
    } else return sendJson(response, 405, { error: `${request.method} is not allowed` });
    if (result === null) return sendJson(response, 404, { error: `no such API path: ${url.pathname}` });
    sendJson(response, result.status, result.body, { 'server-timing': `db;dur=${(performance.now() - started).toFixed(1)}` });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return void response.end();
      sendJson(response, error instanceof URIError ? 400 : errorStatus(error), { error: errorMessage(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/${access.tokenRequired ? `?token=${access.token}` : ''}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    token: access.token,
    tokenRequired: access.tokenRequired,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** A signal that fires when the client goes away before the response is done. */
function abortOnClose(request: IncomingMessage, response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => controller.abort());
  request.once('aborted', () => controller.abort());
  return controller.signal;
}
