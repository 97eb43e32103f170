/**
 * A component host's HTTP endpoint, for Kubernetes probes and Prometheus: `/health` (liveness: the
 * process answers and the host has not failed), `/ready` (readiness: running, every component
 * running, every consumer catching up or live) and `/metrics` (the registry given, with the host's
 * gauges). Liveness never depends on the database: a database outage must not restart every pod.
 */
import { loadPromClient } from '../telemetry/optional-peer.js';
import { serveEndpoint, type EndpointResponse } from '../telemetry/http-endpoint.js';
import type { MetricsRegistry } from '../telemetry/metrics.js';

/** Where one component is. */
export type HostedComponentState = 'created' | 'running' | 'restarting' | 'paused' | 'stopped' | 'failed';

/** The host's HTTP endpoint. */
export interface HostEndpointConfig {
  /** 0 picks a free port (read it from `host.port`). */
  port: number;
  /** Default `0.0.0.0`, for probes from outside the container. */
  host?: string;
  /** A prom-client Registry to serve as `/metrics` (e.g. `client.metrics()`), with the host's own gauges added; without it, the host's gauges alone. */
  metrics?: MetricsRegistry;
}

/** One component as the host reports it. */
export interface HostedComponentStatus {
  name: string;
  state: HostedComponentState;
  /** True when running and, for a consumer, catching up or live. */
  ready: boolean;
  /** Times it was started again after failing. */
  restarts: number;
}

/** What the endpoint reads of a host (a ComponentHost). */
export interface EndpointHost {
  readonly state: string;
  readonly ready: boolean;
  components(): HostedComponentStatus[];
}

/** The hosts reported by each registry's host gauges (one registry may serve several hosts). */
const hostsByRegistry = new WeakMap<object, Set<EndpointHost>>();

function json(status: number, value: unknown): EndpointResponse {
  return { status, contentType: 'application/json', body: `${JSON.stringify(value)}\n` };
}

/** Add the host gauges to `registry` once; each scrape reads every host registered with it. */
function watchHost(registry: MetricsRegistry, host: EndpointHost): Set<EndpointHost> {
  let hosts = hostsByRegistry.get(registry);
  if (hosts !== undefined) {
    hosts.add(host);
    return hosts;
  }
  const watched = new Set<EndpointHost>([host]);
  hosts = watched;
  hostsByRegistry.set(registry, hosts);
  const prom = loadPromClient();
  const registers = [registry as never];
  const gauge = (name: string, help: string, value: (status: HostedComponentStatus) => number): void => {
    if (registry.getSingleMetric(name) !== undefined) return;
    new prom.Gauge({
      name,
      help,
      labelNames: ['component'],
      registers,
      collect() {
        this.reset();
        for (const each of watched) for (const status of each.components()) this.set({ component: status.name }, value(status));
      },
    });
  };
  gauge('messagedb_host_component_ready', 'Whether the hosted component is running (and, for a consumer, catching up or live): 1 or 0', (status) =>
    status.ready ? 1 : 0,
  );
  gauge('messagedb_host_component_restarts', 'Times the hosted component was started again after failing', (status) => status.restarts);
  return hosts;
}

/** Serve the host's endpoint until `signal` fires; resolves with the bound port. */
export async function serveHostEndpoint(host: EndpointHost, config: HostEndpointConfig, signal: AbortSignal): Promise<number> {
  const registry = config.metrics ?? (new (loadPromClient().Registry)() as unknown as MetricsRegistry);
  const hosts = watchHost(registry, host);
  signal.addEventListener('abort', () => hosts.delete(host), { once: true });
  const status = () => ({ state: host.state, components: host.components() });
  const served = await serveEndpoint(
    config.host ?? '0.0.0.0',
    config.port,
    {
      '/health': () => json(host.state === 'failed' ? 503 : 200, { state: host.state }),
      '/ready': () => json(host.ready ? 200 : 503, status()),
      '/metrics': async () => ({ status: 200, contentType: registry.contentType, body: await registry.metrics() }),
    },
    signal,
  );
  return served.port;
}
