/**
 * A Prometheus endpoint for `messagedb consumers --metrics-port`: every scrape of `/metrics` reads
 * the position streams and reports each consumer's position, its category head and its lag. It
 * works for any consumer that records positions the Eventide way, Ruby ones included. Labels are
 * the position stream and its category: one series per consumer, never per message stream.
 */
import { serveEndpoint, type ServedEndpoint } from '../telemetry/http-endpoint.js';
import { loadPromClient } from '../telemetry/optional-peer.js';

/** One consumer as the endpoint reports it. */
export interface ConsumerFigureRow {
  positionStream: string;
  category: string;
  position: number | null;
  head: number;
  lag: number | null;
}

/** Serve `/metrics` on host:port until the signal fires; resolves with the bound port once listening. */
export async function serveConsumerMetrics(host: string, port: number, rows: () => Promise<ConsumerFigureRow[]>, signal: AbortSignal): Promise<ServedEndpoint> {
  const prom = loadPromClient();
  const registry = new prom.Registry();
  const labelNames = ['position_stream', 'category'];
  const gauges = {
    position: new prom.Gauge({ name: 'messagedb_consumer_position', help: 'Recorded global position of the consumer', labelNames, registers: [registry] }),
    head: new prom.Gauge({
      name: 'messagedb_consumer_category_head',
      help: "Newest global position of the consumer's category (or group share)",
      labelNames,
      registers: [registry],
    }),
    lag: new prom.Gauge({ name: 'messagedb_consumer_lag', help: 'Category head minus the recorded position', labelNames, registers: [registry] }),
  };
  const scrape = async (): Promise<string> => {
    for (const gauge of Object.values(gauges)) gauge.reset();
    for (const row of await rows()) {
      const labels = { position_stream: row.positionStream, category: row.category };
      gauges.head.set(labels, row.head);
      if (row.position !== null) gauges.position.set(labels, row.position);
      if (row.lag !== null) gauges.lag.set(labels, row.lag);
    }
    return registry.metrics();
  };
  return serveEndpoint(host, port, { '/metrics': async () => ({ status: 200, contentType: registry.contentType, body: await scrape() }) }, signal);
}
