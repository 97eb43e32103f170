/**
 * The live tail of a category as server-sent events: each poll's new messages (after the global
 * position the page last saw) as one `messages` event, oldest first, until the page goes away or
 * the console closes. A comment line every 15 s keeps proxies from closing a quiet stream.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsoleReader } from './console-reader.js';

/** How often the tail asks for new messages. */
export const TAIL_POLL_MS = 200;
const KEEP_ALIVE_MS = 15_000;
const BATCH_SIZE = 100;

/** Send the category's messages after `after` (correlated with `correlation`, when given) to `response` until `signal` fires. */
export async function serveLiveTail(
  reader: ConsoleReader,
  category: string,
  correlation: string | null,
  after: number,
  response: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  response.write(`retry: 1000\n: tail of ${JSON.stringify(category)}\n\n`);
  let position = after;
  let quietSince = Date.now();
  try {
    while (!signal.aborted) {
      const messages = await reader.categoryMessagesAfter(category, position, BATCH_SIZE, correlation, signal);
      if (messages.length > 0) {
        position = messages.at(-1)?.globalPosition ?? position;
        response.write(`event: messages\nid: ${position}\ndata: ${JSON.stringify(messages)}\n\n`);
        quietSince = Date.now();
        if (messages.length === BATCH_SIZE) continue;
      } else if (Date.now() - quietSince > KEEP_ALIVE_MS) {
        response.write(': keep-alive\n\n');
        quietSince = Date.now();
      }
      await sleep(TAIL_POLL_MS, undefined, { signal });
    }
  } catch (error) {
    if (!signal.aborted) response.write(`event: failed\ndata: ${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n\n`);
  } finally {
    response.end();
  }
}
