/**
 * The two requests the engine sends to the server on a socket of its own, outside any session: a
 * CancelRequest (what stops a statement a caller gave up: it needs no login, and no pooled
 * connection, which might be waiting for the very statement it is meant to stop), and an SSLRequest
 * to tell, after a connection that asked for SSL failed, whether the server refused SSL.
 */
import { connect, type Socket } from 'node:net';
import type { ServerAddress } from './postgres-options.js';

/** What the server's BackendKeyData gave a session: what a CancelRequest names. */
export interface BackendKey {
  pid: number;
  secret: number;
}

const cancelRequestCode = 80877102;
const sslRequestCode = 80877103;

function open(address: ServerAddress, timeoutMs: number): Socket {
  const socket = address.path === undefined ? connect(address.port, address.host) : connect(address.path);
  socket.setTimeout(timeoutMs, () => socket.destroy());
  // Failures end the request quietly: a cancel that cannot be sent leaves the session to end
  // when its connection is closed.
  socket.on('error', () => {});
  return socket;
}

/** Ask the server to cancel what `backend` runs. Resolves once sent and closed, or given up; never rejects. */
export function sendCancelRequest(address: ServerAddress, backend: BackendKey, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = open(address, timeoutMs);
    const request = Buffer.alloc(16);
    request.writeInt32BE(16, 0);
    request.writeInt32BE(cancelRequestCode, 4);
    request.writeUInt32BE(backend.pid, 8);
    request.writeUInt32BE(backend.secret, 12);
    socket.on('connect', () => socket.end(request));
    socket.on('close', () => resolve());
  });
}

/** True when the server answers an SSLRequest with 'N' (it has no SSL); false otherwise, or unreachable. */
export function refusesSsl(address: ServerAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = open(address, timeoutMs);
    const request = Buffer.alloc(8);
    request.writeInt32BE(8, 0);
    request.writeInt32BE(sslRequestCode, 4);
    socket.on('connect', () => socket.write(request));
    socket.once('data', (answer: Buffer) => {
      resolve(answer[0] === 0x4e);
      socket.destroy();
    });
    socket.on('close', () => resolve(false));
  });
}
