/**
 * Type-level tests of typed messages, checked by `npm run typecheck` (test/tsconfig.json includes
 * test/): each `@ts-expect-error` must meet an error, or the check fails ("Unused
 * '@ts-expect-error' directive"). Never run, only compiled.
 */
import { z } from 'zod';
import { Consumer, defineMessage, messageRegistry, type MessageData, type MessageDbClient, type MessageOf, type TypedMessage } from '../../src/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_: T): void => {};

const Deposited = defineMessage('Deposited', z.object({ amount: z.number(), note: z.string().optional() }), {
  schemaVersion: '2',
  upcast: { '1': (old: { cents: number }) => ({ amount: old.cents / 100 }) },
});
const Opened = defineMessage('Opened', z.object({ owner: z.string(), plan: z.enum(['basic', 'gold']).default('basic') }));

export async function inference(client: MessageDbClient): Promise<void> {
  // The type is the literal given; data is the schema's output.
  expectType<Equal<typeof Deposited.type, 'Deposited'>>(true);
  expectType<Equal<MessageData<typeof Deposited>, { amount: number; note?: string | undefined }>>(true);
  // Input and output differ where the schema says: a default makes the input optional, not the output.
  Opened.build({ owner: 'Ada' });
  expectType<Equal<ReturnType<typeof Opened.build>['data']['plan'], 'basic' | 'gold'>>(true);

  // build checks its argument against the schema's input.
  // @ts-expect-error amount must be a number
  Deposited.build({ amount: '5' });
  // @ts-expect-error amount is required
  Deposited.build({});
  // @ts-expect-error plan is one of the enum's values
  Opened.build({ owner: 'Ada', plan: 'platinum' });

  // What build returns spreads into writeMessage.
  await client.writeMessage({ streamName: 'account-1', ...Deposited.build({ amount: 5 }) });

  const [message] = await client.getStreamMessages('account-1');
  if (message === undefined) return;
  const data = Deposited.parse(message);
  expectType<Equal<typeof data.amount, number>>(true);
  // @ts-expect-error parse returns the schema's output, which has no cents
  data.cents;
  const read = await Deposited.read(message);
  expectType<Equal<typeof read, TypedMessage<'Deposited', { amount: number; note?: string | undefined }>>>(true);
}

export function handlers(client: MessageDbClient): void {
  new Consumer(client, { category: 'account' })
    .on(Deposited, (message) => {
      expectType<Equal<typeof message.type, 'Deposited'>>(true);
      expectType<Equal<typeof message.data.amount, number>>(true);
      // @ts-expect-error the handler's data is typed: there is no owner on a Deposited
      message.data.owner;
    })
    .on(Opened, async (message) => {
      expectType<Equal<typeof message.data.plan, 'basic' | 'gold'>>(true);
    })
    // A type name still works, with data as the caller declares it.
    .on<{ raw: boolean }>('Legacy', (message) => {
      expectType<Equal<typeof message.data.raw, boolean>>(true);
    });

  // @ts-expect-error a handler of a definition cannot claim other data
  new Consumer(client, { category: 'account' }).on(Deposited, (message: TypedMessage<'Deposited', { owner: string }>) => message);
  new Consumer(client, { category: 'account', filter: 'handled' });
  // @ts-expect-error 'handled' is the one word a consumer's filter takes
  new Consumer(client, { category: 'account', filter: 'all' });
  // @ts-expect-error a filter's types are strings
  new Consumer(client, { category: 'account', filter: { types: [Deposited] } });
  // @ts-expect-error a data filter compares with JSON scalars only
  void client.getCategoryMessages('account', { filter: { data: { amount: { gt: 5 } } } });
}

export function projections(): void {
  const project = Deposited.apply((account: { balance: number }, data) => {
    expectType<Equal<typeof data.amount, number>>(true);
    account.balance += data.amount;
  });
  expectType<Equal<Parameters<typeof project>[0], { balance: number }>>(true);
  // @ts-expect-error the projection's data is the definition's: no owner
  Deposited.apply((_: object, data) => data.owner);
}

export async function registries(client: MessageDbClient): Promise<void> {
  const strict = messageRegistry([Deposited, Opened]);
  for await (const message of strict.readStream(client, 'account-1')) {
    // The union narrows on the type.
    if (message.type === 'Deposited') expectType<Equal<typeof message.data.amount, number>>(true);
    else expectType<Equal<typeof message, MessageOf<typeof Opened>>>(true);
    // @ts-expect-error a strict registry yields only its own types
    if (message.type === 'Closed') return;
  }
  const passing = messageRegistry([Deposited], { unknown: 'pass' });
  const [first] = await passing.getStreamMessages(client, 'account-1');
  // @ts-expect-error a passing registry may yield untyped messages: data is unknown until narrowed
  first?.data.amount;
  if (first !== undefined && Deposited.is(first)) expectType<Equal<typeof first.type, 'Deposited'>>(true);
}
