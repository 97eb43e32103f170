/**
 * Typed message definitions: a message type, a schema (any Standard Schema: zod, valibot, arktype,
 * ...), a schema version, and upcasts from older versions. `build()` validates before anything is
 * written and stamps `metadata.schemaVersion` (Eventide's key); `parse()` upcasts a stored message
 * to the current version and validates it.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import type { Message, Metadata } from '../vocabulary/message.js';
import * as validate from '../vocabulary/validate.js';
import { InvalidMessageError, UnreadableMessageError, issuesSummary, type UnreadableMessageReason } from './message-errors.js';

/**
 * Turns data of one version into data of the next version the definition knows (the next key of
 * `upcast`, or the current `schemaVersion`). May return a promise.
 */
export type Upcast = (data: never, message: Message) => unknown;

/** `defineMessage` options. */
export interface MessageDefinitionOptions {
  /** The version `build()` writes and `parse()` returns (default `'1'`). Compared as numbers, part by part: `'1.10'` > `'1.9'`. */
  schemaVersion?: string;
  /** The version of a stored message without `metadata.schemaVersion` (default `'1'`). */
  unversioned?: string;
  /**
   * Upcasts by the version they read: `{ '1': (v1) => v2, '2': (v2) => v3 }` with schemaVersion `'3'`.
   * A message of version 1 goes through both, in version order.
   */
  upcast?: Readonly<Record<string, Upcast>>;
}

/** `build()` options. */
export interface BuildOptions {
  /** The message id (a UUID; random when omitted), so a retried write is safe. */
  id?: string;
  /** Metadata to write (from `follow()`, say); `schemaVersion` is set to the definition's. */
  metadata?: Metadata | null;
}

/** A built message: spread it into `writeMessage({ streamName, ...built })`. */
export interface BuiltMessage<Type extends string, Data> {
  id?: string;
  type: Type;
  data: Data;
  metadata: Metadata & { schemaVersion: string };
}

/** A stored message read through its definition: data upcast and validated, type known. */
export interface TypedMessage<Type extends string = string, Data = unknown> extends Message<Data> {
  type: Type;
}

/** What reading needs of a definition: its type, and how to read a stored message of it. */
export interface MessageReader<Type extends string = string, Data = unknown> {
  readonly type: Type;
  /** The stored message with its data upcast and validated: synchronously when everything is, else a promise. */
  read(message: Message): TypedMessage<Type, Data> | Promise<TypedMessage<Type, Data>>;
}

/** What a projection returns: the new entity, or nothing when it changed the entity in place. */
// biome-ignore lint/suspicious/noConfusingVoidType: a function declared on its own that changes the entity in place returns void, not undefined.
export type ProjectionResult<Entity> = Entity | void;

/** A message definition; see `defineMessage`. */
export interface MessageDefinition<Type extends string = string, Input = unknown, Output = Input> extends MessageReader<Type, Output> {
  readonly type: Type;
  readonly schemaVersion: string;
  readonly schema: StandardSchemaV1<Input, Output>;
  /**
   * The message to write: `data` validated (the schema's output is what is written) and
   * `metadata.schemaVersion` set. Throws InvalidMessageError before anything is written. For a
   * schema that validates asynchronously, use `buildAsync`.
   */
  build(data: Input, options?: BuildOptions): BuiltMessage<Type, Output>;
  buildAsync(data: Input, options?: BuildOptions): Promise<BuiltMessage<Type, Output>>;
  /**
   * The data of a stored message of this type, upcast to the current version and validated. Throws
   * UnreadableMessageError. For a schema or upcast that is asynchronous, use `parseAsync`.
   */
  parse(message: Message): Output;
  parseAsync(message: Message): Promise<Output>;
  /** True when `message` is of this definition's type. */
  is(message: Message): message is TypedMessage<Type, unknown>;
  /**
   * An entity projection of this type that receives the parsed data (Eventide's `apply`):
   * `projection: { [Deposited.type]: Deposited.apply((account, data) => ...) }`. A message that
   * cannot be read throws UnreadableMessageError, which the entity store reports as a ProjectionError.
   */
  apply<Entity>(
    project: (entity: Entity, data: Output, message: TypedMessage<Type, Output>) => ProjectionResult<Entity>,
  ): (entity: Entity, data: unknown, message: Message) => ProjectionResult<Entity>;
}

/** The data type a definition reads and builds (its schema's output). */
export type MessageData<Definition> = Definition extends MessageReader<string, infer Output> ? Output : never;
/** The typed message a definition reads. */
export type MessageOf<Definition> = Definition extends MessageReader<infer Type, infer Output> ? TypedMessage<Type, Output> : never;

type MaybePromise<T> = T | Promise<T>;

const isPromise = <T>(value: MaybePromise<T>): value is Promise<T> => typeof (value as { then?: unknown } | null)?.then === 'function';

function then<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(value) ? value.then(next) : next(value);
}

/** Version order: numeric parts compared as numbers (`'2' < '10'`, `'1.9' < '1.10'`). */
export function compareVersions(left: string, right: string): number {
  return left.localeCompare(right, 'en', { numeric: true });
}

function checkSchema(schema: unknown): StandardSchemaV1 {
  const standard = (schema as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.['~standard'];
  if (standard?.version !== 1 || typeof standard.validate !== 'function') {
    throw new InvalidArgumentError('schema', 'must be a Standard Schema (version 1: zod, valibot, arktype, ...)');
  }
  return schema as StandardSchemaV1;
}

/**
 * Define a message type once: its schema validates what is written, and reads return typed data
 * upcast to the current version.
 *
 * @example
 * const Deposited = defineMessage('Deposited', z.object({ amount: z.number().positive() }), {
 *   schemaVersion: '2',
 *   upcast: { '1': (old: { cents: number }) => ({ amount: old.cents / 100 }) },
 * })
 * await client.writeMessage({ streamName: 'account-1', ...Deposited.build({ amount: 5 }) })
 * const { amount } = Deposited.parse(message)
 */
export function defineMessage<const Type extends string, Schema extends StandardSchemaV1>(
  type: Type,
  schema: Schema,
  options: MessageDefinitionOptions = {},
): MessageDefinition<Type, StandardSchemaV1.InferInput<Schema>, StandardSchemaV1.InferOutput<Schema>> {
  type Input = StandardSchemaV1.InferInput<Schema>;
  type Output = StandardSchemaV1.InferOutput<Schema>;
  validate.text('type', type);
  const standard = checkSchema(schema)['~standard'];
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  const schemaVersion = options.schemaVersion === undefined ? '1' : validate.text('schemaVersion', options.schemaVersion);
  const unversioned = options.unversioned === undefined ? '1' : validate.text('unversioned', options.unversioned);
  const upcasts = options.upcast ?? {};
  if (typeof upcasts !== 'object' || upcasts === null) throw new InvalidArgumentError('upcast', 'must be an object of functions by version');
  // The chain: every version with an upcast, oldest first, each upcast leading to the next version.
  const chain = Object.keys(upcasts).sort(compareVersions);
  for (const version of chain) {
    if (typeof upcasts[version] !== 'function') throw new InvalidArgumentError(`upcast.${version}`, 'must be a function');
    if (compareVersions(version, schemaVersion) >= 0) {
      throw new InvalidArgumentError(`upcast.${version}`, `upcasts from a version not older than schemaVersion ${schemaVersion}`);
    }
  }

  const validateData = (value: unknown): MaybePromise<StandardSchemaV1.Result<Output>> =>
    standard.validate(value) as MaybePromise<StandardSchemaV1.Result<Output>>;

  const built = (result: StandardSchemaV1.Result<Output>, buildOptions: BuildOptions): BuiltMessage<Type, Output> => {
    if (result.issues !== undefined) throw new InvalidMessageError(type, schemaVersion, result.issues);
    const message: BuiltMessage<Type, Output> = {
      type,
      data: result.value,
      metadata: { ...(buildOptions.metadata ?? {}), schemaVersion },
    };
    if (buildOptions.id !== undefined) message.id = validate.uuid(buildOptions.id);
    return message;
  };

  /** The version a stored message was written as. */
  const versionOf = (message: Message): string => {
    const stored = message.metadata?.schemaVersion;
    return stored === undefined || stored === null ? unversioned : String(stored);
  };

  const unreadable = (
    message: Message,
    reason: UnreadableMessageReason,
    problem: string,
    extra?: { cause?: unknown; issues?: readonly StandardSchemaV1.Issue[] },
  ) => new UnreadableMessageError(message, versionOf(message), reason, problem, extra);

  /** The upcasts a message of `version` goes through, oldest first; throws when there is no way to the current version. */
  const stepsFrom = (message: Message, version: string): readonly string[] => {
    const start = chain.indexOf(version);
    if (start !== -1) return chain.slice(start);
    const newer = compareVersions(version, schemaVersion) > 0;
    throw unreadable(
      message,
      'unknown-version',
      newer
        ? `version ${version} is newer than the definition's ${schemaVersion}`
        : `no upcast from version ${version} (the definition upcasts ${chain.length === 0 ? 'none' : chain.join(', ')} to ${schemaVersion})`,
    );
  };

  const upcastFailed = (message: Message, from: string, cause: unknown) =>
    unreadable(message, 'upcast-failed', `the upcast from version ${from} threw`, { cause });

  /** Data upcast through `steps` from `index` on. */
  const upcastFrom = (message: Message, steps: readonly string[], index: number, data: unknown): MaybePromise<unknown> => {
    if (index === steps.length) return data;
    const from = steps[index] as string;
    let next: MaybePromise<unknown>;
    try {
      next = (upcasts[from] as (data: unknown, message: Message) => unknown)(data, message);
    } catch (cause) {
      throw upcastFailed(message, from, cause);
    }
    if (isPromise(next)) {
      return next.then(
        (value) => upcastFrom(message, steps, index + 1, value),
        (cause: unknown) => Promise.reject(upcastFailed(message, from, cause)),
      );
    }
    return upcastFrom(message, steps, index + 1, next);
  };

  const validated = (message: Message, upcast: boolean, result: StandardSchemaV1.Result<Output>): Output => {
    if (result.issues === undefined) return result.value;
    const after = upcast ? ' after upcasting' : '';
    throw unreadable(message, 'invalid-data', `its data fails the schema of version ${schemaVersion}${after}: ${issuesSummary(result.issues)}`, {
      issues: result.issues,
    });
  };

  // Called once per message a consumer handles: the current version's path creates no function.
  const decode = (message: Message): MaybePromise<Output> => {
    if (message.type !== type) throw unreadable(message, 'unknown-type', `it is not a ${type}`);
    const version = versionOf(message);
    if (version === schemaVersion) {
      const result = validateData(message.data);
      return isPromise(result) ? result.then((settled) => validated(message, false, settled)) : validated(message, false, result);
    }
    const steps = stepsFrom(message, version);
    return then(upcastFrom(message, steps, 0, message.data), (data) => then(validateData(data), (result) => validated(message, true, result)));
  };

  const synchronously = <T>(value: MaybePromise<T>, method: string): T => {
    if (!isPromise(value)) return value;
    value.catch(() => {});
    throw new InvalidArgumentError('schema', `of ${type} (or an upcast) is asynchronous: use ${method}Async()`);
  };

  return {
    type,
    schemaVersion,
    schema: schema as StandardSchemaV1<Input, Output>,
    build: (data, buildOptions = {}) =>
      synchronously(
        then(validateData(data), (result) => built(result, buildOptions)),
        'build',
      ),
    buildAsync: async (data, buildOptions = {}) => built(await validateData(data), buildOptions),
    parse: (message) => synchronously(decode(message), 'parse'),
    parseAsync: async (message) => decode(message),
    read: (message) => then(decode(message), (data) => ({ ...message, type, data })),
    is: (message): message is TypedMessage<Type, unknown> => message?.type === type,
    apply: (project) => (entity, _data, message) => {
      const data = synchronously(decode(message), 'parse');
      return project(entity, data, { ...message, type, data });
    },
  };
}
