/**
 * The console's access rules as pure decisions on a request's URL and headers: which hosts are
 * loopback, when a read needs the token, and what a write needs (the token header and a
 * same-origin Origin). The browser tests check the same rules end to end.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { ConsoleAccess, TOKEN_COOKIE, TOKEN_HEADER, hostName, isLoopback } from '../../src/console/console-security.ts';

const token = 'a-token-of-24-characters';
const requestWith = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;
const url = (path: string) => new URL(path, 'http://console.invalid');

describe('console access', () => {
  test('loopback addresses and host names are told from others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '10.0.0.1', 'example.com', '127.0.0.1.example.com', '::']) assert.equal(isLoopback(host), false, host);
    assert.equal(hostName('localhost:8080'), 'localhost');
    assert.equal(hostName('[::1]:8080'), '[::1]');
  });

  test('on loopback without a token, reads need only a loopback Host', () => {
    const access = new ConsoleAccess('127.0.0.1', undefined);
    assert.equal(access.tokenRequired, false);
    assert.equal(access.refuseRead(requestWith({ host: '127.0.0.1:4000' }), url('/api/overview')), null);
    assert.match(access.refuseRead(requestWith({ host: 'rebound.example:4000' }), url('/api/overview')) ?? '', /loopback host name/);
  });

  test('off loopback, or with a token given, every read needs the token (URL, cookie or bearer)', () => {
    for (const access of [new ConsoleAccess('0.0.0.0', token), new ConsoleAccess('127.0.0.1', token)]) {
      assert.equal(access.tokenRequired, true);
      const host = { host: '127.0.0.1:4000' };
      assert.match(access.refuseRead(requestWith(host), url('/')) ?? '', /needs its token/);
      assert.match(access.refuseRead(requestWith(host), url(`/?token=${token}x`)) ?? '', /needs its token/);
      assert.equal(access.refuseRead(requestWith(host), url(`/?token=${token}`)), null);
      assert.equal(access.refuseRead(requestWith({ ...host, cookie: `other=1; ${TOKEN_COOKIE}=${token}` }), url('/api/overview')), null);
      assert.equal(access.refuseRead(requestWith({ ...host, authorization: `Bearer ${token}` }), url('/api/overview')), null);
    }
    assert.equal(new ConsoleAccess('0.0.0.0', undefined).token.length >= 32, true, 'a generated token');
  });

  test('a write needs the token in its header and an Origin of the console itself', () => {
    const access = new ConsoleAccess('127.0.0.1', token);
    const host = '127.0.0.1:4000';
    assert.equal(access.refuseWrite(requestWith({ host, origin: `http://${host}`, [TOKEN_HEADER]: token })), null);
    assert.match(access.refuseWrite(requestWith({ host, origin: `http://${host}`, cookie: `${TOKEN_COOKIE}=${token}` })) ?? '', /token in its header/);
    assert.match(access.refuseWrite(requestWith({ host, origin: 'http://evil.example', [TOKEN_HEADER]: token })) ?? '', /same origin/);
    assert.match(access.refuseWrite(requestWith({ host, [TOKEN_HEADER]: token })) ?? '', /same origin/);
  });
});
