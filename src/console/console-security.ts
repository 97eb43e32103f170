/**
 * Who may use the console. On a loopback address, anyone on the machine may read, as with any local
 * tool, but only through a loopback host name (a page elsewhere cannot reach it by rebinding a
 * domain name to 127.0.0.1). Anywhere else, or when a token was given, every request needs the
 * token: in the URL (`?token=`), which then sets a cookie the page's later requests carry, or as
 * `Authorization: Bearer`. Writes always need the token (the page sends it in a header) and a
 * same-origin `Origin`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The cookie that carries the token after a page was opened with `?token=`. */
export const TOKEN_COOKIE = 'messagedb_console_token';
/** The header the page sends its token in with a write. */
export const TOKEN_HEADER = 'x-messagedb-console-token';

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A new random token. */
export const newToken = (): string => randomBytes(24).toString('base64url');

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** The console's access rules for one server. */
export class ConsoleAccess {
  readonly token: string;
  /** Whether reads need the token too (not loopback, or a token was given). */
  readonly tokenRequired: boolean;
  readonly #loopback: boolean;

  constructor(host: string, token: string | undefined) {
    this.token = token ?? newToken();
    this.#loopback = isLoopback(host);
    this.tokenRequired = !this.#loopback || token !== undefined;
  }

  /** The token this request carries in its URL, if it is the right one (the page then sets the cookie). */
  urlToken(url: URL): boolean {
    const given = url.searchParams.get('token');
    return given !== null && sameText(given, this.token);
  }

  /** Whether the request carries the token (URL, cookie, bearer header or the write header). */
  hasToken(request: IncomingMessage, url: URL): boolean {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const header = request.headers[TOKEN_HEADER];
    const candidates = [url.searchParams.get('token'), cookieValue(request, TOKEN_COOKIE), bearer, typeof header === 'string' ? header : undefined];
    return candidates.some((given) => typeof given === 'string' && sameText(given, this.token));
  }

  /** Why a request may not read, or null when it may. */
  refuseRead(request: IncomingMessage, url: URL): string | null {
    if (this.#loopback && !isLoopback(hostName(request.headers.host ?? ''))) return 'this console answers only to a loopback host name';
    if (this.tokenRequired && !this.hasToken(request, url)) return 'this console needs its token: open the URL it printed';
    return null;
  }

  /** Why a request may not write, or null when it may: the token in the write header and a same-origin Origin. */
  refuseWrite(request: IncomingMessage): string | null {
    const header = request.headers[TOKEN_HEADER];
    if (typeof header !== 'string' || !sameText(header, this.token)) return 'a write needs the console token in its header';
    const origin = request.headers.origin;
    if (origin === undefined || origin !== `http://${request.headers.host ?? ''}`) return 'a write must come from the console page itself (same origin)';
    return null;
  }
}

/** The host name of a Host header, without its port. */
export function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.split(':')[0] ?? '';
}
