/**
 * The component host, after Eventide's `ComponentHost`: many consumers (and other long-running
 * components) in one process, started together, stopped together and gracefully on SIGTERM/SIGINT
 * (each awaits its work in flight), paused on SIGTSTP and resumed on SIGCONT, with one policy for a
 * component that fails, and optionally an HTTP endpoint for probes and scrapers (host-endpoint.ts).
 */
import { backoffDelay, sleep } from '../engine/runner.js';
import { ConsumerError, InvalidArgumentError, isAbortError, isClosedError } from '../vocabulary/errors.js';
import * as validate from '../vocabulary/validate.js';
import { MAX_TIMER_MS } from './consumer-config.js';
import type { HostEndpointConfig, HostedComponentState, HostedComponentStatus } from './host-endpoint.js';

export type { HostEndpointConfig, HostedComponentState, HostedComponentStatus } from './host-endpoint.js';

/**
 * What a host runs: a Consumer, or anything shaped like one. `start` runs until stopped (or its
 * signal fires), resolves once stopped, and rejects when the component failed.
 */
export interface HostComponent {
  start(options: { signal?: AbortSignal }): Promise<void>;
  /** Stop, awaiting the work in flight for at most `timeoutMs` (called besides aborting the start signal). */
  stop?(options?: { timeoutMs?: number }): Promise<void>;
  /** A name for logs, probes and metrics (a consumer is named by its position stream). */
  readonly name?: string;
  readonly positionStreamName?: string;
  /** A consumer's state: the host reports it ready once `catching up` or `live`. */
  readonly state?: string;
}

/** What the host does when a component fails: stop every component (and reject `start()`), or start the failed one again after a backoff. */
export type HostFailurePolicy = 'stop-all' | 'restart';

/** Where a host is in its life. */
export type HostState = 'created' | 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'failed';

/** `createHost` configuration. */
export interface HostConfig {
  /** Default `stop-all`. A closed client is never restarted: it fails the host under either policy. */
  onFailure?: HostFailurePolicy;
  /** The backoff between restarts: doubling from `initialDelayMs` (default 100) to `maxDelayMs` (default 30,000), with jitter. */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Called for every component failure, with the component's name (Eventide's error-reporting hook). */
  onError?: (error: unknown, component: string) => void;
  /** Called on every change of the host's state. */
  onState?: (state: HostState) => void;
  /**
   * Handle SIGTERM and SIGINT (stop; a second one exits at once with 128 + the signal's number),
   * SIGTSTP (pause) and SIGCONT (resume) while running. Default true.
   */
  signals?: boolean;
  /** How long a stop waits for a consumer's handlers in flight (see ConsumerStopOptions.timeoutMs); default: as long as they take. */
  stopTimeoutMs?: number;
  /** Serve `/health`, `/ready` and `/metrics` while running (see HostEndpointConfig). */
  http?: HostEndpointConfig;
}

interface Hosted {
  readonly name: string;
  readonly component: HostComponent;
  state: HostedComponentState;
  restarts: number;
  /** Failures in a row; back to 0 once a run lasts longer than the longest backoff. */
  attempt: number;
  controller: AbortController | undefined;
  /** Settles when the current run (or restart wait) is over; never rejects. */
  ended: Promise<void>;
}

const signalNumbers = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * Runs many consumers and other long-running components in one process, as Eventide's component
 * host does. `start()` runs them until the host is stopped: by `stop()`, its signal, or SIGTERM or
 * SIGINT. Create one with {@link createHost}.
 *
 * @example
 * const host = createHost({ http: { port: 9090, metrics: client.metrics() } })
 * host.add(accounts).add(transfers)
 * await host.start() // until SIGTERM: then every consumer finishes its message and records its position
 * await client.close()
 */
export class ComponentHost {
  readonly #config: HostConfig;
  readonly #retry: { initialDelayMs: number; maxDelayMs: number };
  readonly #hosted: Hosted[] = [];
  #state: HostState = 'created';
  #failure: unknown;
  #settle: (() => void) | undefined;
  #pausing: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;
  #endpoint: AbortController | undefined;
  #port: number | undefined;
  #untrap: (() => void) | undefined;

  constructor(config: HostConfig = {}) {
    if (config.onFailure !== undefined && config.onFailure !== 'stop-all' && config.onFailure !== 'restart') {
      throw new InvalidArgumentError('onFailure', `must be 'stop-all' or 'restart' (got ${JSON.stringify(String(config.onFailure))})`);
    }
    const initialDelayMs =
      config.retry?.initialDelayMs === undefined ? 100 : validate.integer('retry.initialDelayMs', config.retry.initialDelayMs, 1, MAX_TIMER_MS);
    const maxDelayMs =
      config.retry?.maxDelayMs === undefined
        ? Math.max(initialDelayMs, 30_000)
        : validate.integer('retry.maxDelayMs', config.retry.maxDelayMs, initialDelayMs, MAX_TIMER_MS);
    if (config.stopTimeoutMs !== undefined) validate.integer('stopTimeoutMs', config.stopTimeoutMs, 0, MAX_TIMER_MS);
    if (config.http !== undefined) validate.integer('http.port', config.http.port, 0, 65_535);
    for (const hook of ['onError', 'onState'] as const) {
      if (config[hook] !== undefined && typeof config[hook] !== 'function') throw new InvalidArgumentError(hook, 'must be a function');
    }
    this.#config = config;
    this.#retry = { initialDelayMs, maxDelayMs };
  }

  get state(): HostState {
    return this.#state;
  }

  /** The HTTP endpoint's port once it listens (the chosen one for port 0), else undefined. */
  get port(): number | undefined {
    return this.#port;
  }

  /** Add a component (before `start()`); `name` defaults to its `name`, or a consumer's position stream. Names are unique. */
  add(component: HostComponent, options: { name?: string } = {}): this {
    if (typeof component !== 'object' || component === null || typeof component.start !== 'function') {
      throw new InvalidArgumentError('component', 'must have a start({ signal }) method (a Consumer, or a component shaped like one)');
    }
    if (this.#state !== 'created') throw new ConsumerError(`Components are added before the host starts (it is ${this.#state})`);
    const name = validate.text('name', options.name ?? component.name ?? component.positionStreamName ?? `component-${this.#hosted.length + 1}`);
    if (this.#hosted.some((hosted) => hosted.name === name)) throw new InvalidArgumentError('name', `must be unique in the host (${name} is taken)`);
    this.#hosted.push({ name, component, state: 'created', restarts: 0, attempt: 0, controller: undefined, ended: Promise.resolve() });
    return this;
  }

  /** Each component's name, state, readiness and restarts. */
  components(): HostedComponentStatus[] {
    return this.#hosted.map(({ name, state, restarts, component }) => ({
      name,
      state,
      restarts,
      ready: state === 'running' && (typeof component.state !== 'string' || component.state === 'catching up' || component.state === 'live'),
    }));
  }

  /** True while running with every component ready: what `/ready` answers. */
  get ready(): boolean {
    return this.#state === 'running' && this.components().every((component) => component.ready);
  }

  /**
   * Start every component (and the endpoint), and run until stopped: resolves once every component
   * has stopped, after `stop()`, the signal, SIGTERM or SIGINT, or once every component ended by
   * itself. Under `stop-all`, rejects with the first component failure after stopping the rest.
   */
  start(options: { signal?: AbortSignal } = {}): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = validate.signal(options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state !== 'created') return Promise.reject(new ConsumerError(`A host starts once (it is ${this.#state})`));
    if (this.#hosted.length === 0) return Promise.reject(new ConsumerError('A host needs components: add() them before start()'));
    this.#setState('starting');
    const done = new Promise<void>((resolve, reject) => {
      this.#settle = () => (this.#state === 'failed' ? reject(this.#failure) : resolve());
    });
    const onAbort = (): void => void this.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    void done.catch(() => {}).finally(() => signal?.removeEventListener('abort', onAbort));
    if (this.#config.signals !== false) this.#untrap = this.#trapSignals();
    void this.#open().then(
      () => {
        if (signal?.aborted) return void this.stop();
        if (this.#state !== 'starting') return;
        this.#setState('running');
        for (const hosted of this.#hosted) this.#launch(hosted);
      },
      (error: unknown) => this.#fail(error),
    );
    return done;
  }

  /**
   * Stop every component (each awaits its work in flight, consumers record their positions) and the
   * endpoint. Resolves once all have stopped, in every state; never rejects (a failure that stopped
   * the host is `start()`'s to report).
   */
  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    if (this.#state === 'created' || this.#state === 'stopped' || this.#state === 'failed') {
      this.#setState(this.#state === 'failed' ? 'failed' : 'stopped');
      return Promise.resolve();
    }
    this.#setState('stopping');
    this.#stopping = (async () => {
      await Promise.all(this.#hosted.map((hosted) => this.#halt(hosted)));
      this.#endpoint?.abort();
      this.#port = undefined;
      this.#untrap?.();
      this.#untrap = undefined;
      this.#setState(this.#failure === undefined ? 'stopped' : 'failed');
      this.#settle?.();
    })();
    return this.#stopping;
  }

  /** Stop every component gracefully and keep the process (SIGTSTP): `resume()` starts them again from where they recorded. Resolves once all are paused. */
  pause(): Promise<void> {
    if (this.#state !== 'running') return this.#pausing;
    this.#setState('paused');
    this.#pausing = Promise.all(
      this.#hosted.map(async (hosted) => {
        await this.#halt(hosted);
        if (hosted.state === 'stopped' && this.#state === 'paused') hosted.state = 'paused';
      }),
    ).then(() => {});
    return this.#pausing;
  }

  /** Start the paused components again (SIGCONT); resolves once they are started. Does nothing unless paused. */
  async resume(): Promise<void> {
    if (this.#state !== 'paused') return;
    await this.#pausing;
    if (this.#state !== 'paused') return;
    this.#setState('running');
    // Under `restart`, a component that failed while being paused starts again too.
    const restarts = this.#config.onFailure === 'restart';
    for (const hosted of this.#hosted) if (hosted.state === 'paused' || (restarts && hosted.state === 'failed')) this.#launch(hosted);
  }

  #setState(state: HostState): void {
    if (this.#state === state) return;
    this.#state = state;
    try {
      this.#config.onState?.(state);
    } catch {
      // A hook that throws must not leave the host half-changed.
    }
  }

  async #open(): Promise<void> {
    const http = this.#config.http;
    if (http === undefined) return;
    this.#endpoint = new AbortController();
    // Loaded only when asked for: node:http and prom-client stay out of a plain `import 'messagedb'`.
    const { serveHostEndpoint } = await import('./host-endpoint.js');
    const signal = this.#endpoint.signal;
    const port = await serveHostEndpoint(this, http, signal);
    if (!signal.aborted) this.#port = port;
  }

  /** Run the component once; its end (or failure) decides what happens next. */
  #launch(hosted: Hosted): void {
    const controller = new AbortController();
    hosted.controller = controller;
    hosted.state = 'running';
    const began = performance.now();
    hosted.ended = Promise.resolve()
      .then(() => hosted.component.start({ signal: controller.signal }))
      .then(
        () => {
          if (hosted.controller === controller) hosted.state = 'stopped';
          // Every component ended by itself: nothing is left to host.
          if (this.#state === 'running' && this.#hosted.every((other) => other.state === 'stopped')) void this.stop();
        },
        (error: unknown) => this.#failed(hosted, controller, error, performance.now() - began),
      );
  }

  #failed(hosted: Hosted, controller: AbortController, error: unknown, ranMs: number): Promise<void> | undefined {
    // Stopped while it started: an abort is how it ended, not a failure.
    if (controller.signal.aborted && isAbortError(error)) {
      hosted.state = 'stopped';
      return undefined;
    }
    hosted.state = 'failed';
    try {
      this.#config.onError?.(error, hosted.name);
    } catch {
      // The reporting hook's own failure must not change what the host does.
    }
    if (this.#config.onFailure !== 'restart' || isClosedError(error)) {
      this.#fail(error);
      return undefined;
    }
    if (this.#state !== 'running') return undefined;
    hosted.attempt = ranMs > this.#retry.maxDelayMs ? 1 : hosted.attempt + 1;
    hosted.state = 'restarting';
    return sleep(backoffDelay(hosted.attempt, this.#retry), controller.signal).then(
      () => {
        if (this.#state !== 'running' || hosted.controller !== controller) return;
        hosted.restarts++;
        this.#launch(hosted);
      },
      () => {
        // Stopped or paused during the wait.
      },
    );
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    void this.stop();
  }

  /** Stop one component: abort its run and any restart wait, ask it to stop, and await its end. */
  async #halt(hosted: Hosted): Promise<void> {
    const controller = hosted.controller;
    if (controller !== undefined && !controller.signal.aborted) {
      controller.abort();
      const timeoutMs = this.#config.stopTimeoutMs;
      await hosted.component.stop?.(timeoutMs === undefined ? {} : { timeoutMs }).catch(() => {});
    }
    await hosted.ended;
    if (hosted.state !== 'failed') hosted.state = 'stopped';
  }

  /** Handle the process signals; returns the function that stops handling them. */
  #trapSignals(): () => void {
    const stop = (name: keyof typeof signalNumbers): void => {
      // A second request while stopping: the operator wants out now.
      if (this.#stopping !== undefined) process.exit(128 + signalNumbers[name]);
      void this.stop();
    };
    const handlers: Array<[NodeJS.Signals, () => void]> = [
      ['SIGTERM', () => stop('SIGTERM')],
      ['SIGINT', () => stop('SIGINT')],
    ];
    // Windows has neither.
    if (process.platform !== 'win32') handlers.push(['SIGTSTP', () => void this.pause()], ['SIGCONT', () => void this.resume()]);
    for (const [name, handler] of handlers) process.on(name, handler);
    return () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    };
  }
}

/**
 * A component host (Eventide's `ComponentHost`): add consumers and other components, then
 * `start()` runs them until SIGTERM or SIGINT. See {@link ComponentHost}.
 */
export function createHost(config: HostConfig = {}): ComponentHost {
  return new ComponentHost(config);
}
