/**
 * A component host's HTTP endpoint, for Kubernetes probes and Prometheus: `/health` (liveness: the
 * process answers and the host has not failed), `/ready` (readiness: running, every component
 * running, every consumer catching up or live) and `/metrics` (the registry given, with the host's
 * gauges). Liveness never depends on the database: a database outage must not restart every pod.
 */
import { loadPromClient } from '../telemetry/optional-peer.js';
import { serveEndpoint, type EndpointResponse } from '../telemetry/http-endpoint.js';
import type { MetricsRegistry } from '../telemetry/metrics.js';
import type { ComponentHost, HostEndpointConfig } from './host.js';

/** The hosts reported by each registry's host gauges (one registry may serve several hosts). */
const hostsByRegistry = new WeakMap<object, Set<ComponentHost>>();

function json(status: number, value: unknown): EndpointResponse {
  return { status, contentType: 'application/json', body: `${JSON.stringify(value)}\n` };
}

/** Add the host gauges to `registry` once; each scrape reads every host registered with it. */
function watchHost(registry: MetricsRegistry, host: ComponentHost): Set<ComponentHost> {
  let hosts = hostsByRegistry.get(registry);
  if (hosts !== undefined) {
    hosts.add(host);
    return hosts;
  }
  const watched = new Set<ComponentHost>([host]);
  hosts = watched;
  hostsByRegistry.set(registry, hosts);
  const prom = loadPromClient();
  const registers = [registry as never];
  const gauge = (name: string, help: string, value: (status: ReturnType<ComponentHost['components']>[number]) => number): void => {
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
export async function serveHostEndpoint(host: ComponentHost, config: HostEndpointConfig, signal: AbortSignal): Promise<number> {
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
