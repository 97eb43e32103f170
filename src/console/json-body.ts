/**
 * A write's request body: a JSON object of at most 1 MiB, or an InvalidArgumentError saying what is
 * wrong with it.
 */
import type { IncomingMessage } from 'node:http';
import { InvalidArgumentError } from '../vocabulary/errors.js';

const MAX_BODY_BYTES = 1024 * 1024;

/** Read and parse the request's JSON object body. */
export async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new InvalidArgumentError('body', `must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (cause) {
    throw new InvalidArgumentError('body', 'must be JSON', { cause });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}
