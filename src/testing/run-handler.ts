/**
 * Running the code under test against the test store: one consumer handler on one message, an
 * entity store's `handle` on one command, and a whole consumer until it has handled everything.
 */
import {
  Consumer,
  type Decide,
  type EntityStore,
  type HandleOptions,
  type HandlerContext,
  InvalidArgumentError,
  type Message,
  type MessageDbClient,
  category,
  id,
} from '../index.js';

/** Options of `runHandler`. */
export interface RunHandlerOptions {
  /** The consumer the handler's context names (default: a consumer of the message's category, identifier `test`). */
  consumer?: Consumer;
  /** The handler's `context.signal` (default: one that never fires). */
  signal?: AbortSignal;
}

/**
 * Call a consumer handler once with `message` and the context a consumer gives it (`client`,
 * `consumer`, `signal`), and settle as the handler does: its error is thrown as it is, with no
 * `onError`, retry or position record in between.
 *
 * @example
 * const deposited = await given(client, 'account-1', { type: 'Deposited', data: { amount: 10 } })
 * await runHandler(client, onDeposited, deposited)
 * await expectWritten(client, 'accountBalance-1', { type: 'BalanceChanged', data: { balance: 10 } })
 */
export async function runHandler<Data>(
  client: MessageDbClient,
  handler: (message: Message<Data>, context: HandlerContext) => unknown,
  message: Message<Data>,
  options: RunHandlerOptions = {},
): Promise<void> {
  if (typeof handler !== 'function') throw new InvalidArgumentError('handler', `must be a function (got ${typeof handler})`);
  checkStored(message);
  const consumer = options.consumer ?? new Consumer(client, { category: category(message.streamName), identifier: 'test' });
  const signal = options.signal ?? new AbortController().signal;
  await handler(message, { client, consumer, signal });
}

/**
 * Handle `command` with the entity store's `handle`, following it (causation and correlation), and
 * return the messages written, as stored (none when `decide` chose to write nothing). The entity's
 * id is the command stream's id (`account:command-123` -> `123`) unless `options.id` is given.
 *
 * @example
 * const command = await given(client, 'account:command-1', { type: 'Withdraw', data: { amount: 10 } })
 * const [event] = await handleCommand(client, accounts, command, (account) => ({ type: 'Withdrawn', data: { amount: 10 } }))
 */
export async function handleCommand<Entity>(
  client: MessageDbClient,
  store: EntityStore<Entity>,
  command: Message,
  decide: Decide<Entity>,
  options: HandleOptions & { id?: string } = {},
): Promise<Message[]> {
  checkStored(command, 'command');
  const { id: givenId, ...handleOptions } = options;
  const entityId = givenId ?? id(command.streamName);
  if (entityId === null) throw new InvalidArgumentError('options.id', `is needed: the command's stream ${command.streamName} names no entity id`);
  const positions = await store.handle(entityId, decide, { follow: command, ...handleOptions });
  if (positions.length === 0) return [];
  return client.getStreamMessages(store.streamName(entityId), { position: positions[0] as number, batchSize: positions.length, primary: true });
}

/** A message as read from the store: handlers and `follow` need its positions. */
function checkStored(message: Message, argument = 'message'): void {
  if (
    typeof message !== 'object' ||
    message === null ||
    typeof message.streamName !== 'string' ||
    !Number.isSafeInteger(message.position) ||
    !Number.isSafeInteger(message.globalPosition)
  ) {
    throw new InvalidArgumentError(argument, 'must be a message read from the store (write it with given() first)');
  }
}
