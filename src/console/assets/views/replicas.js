/** `/replicas`: each read replica's state and replay lag, when the console was started with replicas. */
import { useEffect } from 'preact/hooks';
import { useApi } from '../api.js';
import { formatNumber } from '../format.js';
import { html } from '../html.js';

export function ReplicasView() {
  const { data, error, reload } = useApi('replicas');
  useEffect(() => {
    const timer = setInterval(reload, 2000);
    return () => clearInterval(timer);
  }, []);
  if (error) return html`<p class="error">${error.message}</p>`;
  if (data === null) return html`<p class="muted">Loading…</p>`;
  return html`<section data-view="replicas">
    <h1>Replicas</h1>
    ${
      data.replicas.length === 0
        ? html`<p class="muted">No read replicas configured (start the console with <code>--url … --replica …</code>).</p>`
        : html`<table class="list">
          <thead><tr><th>Replica</th><th>State</th><th class="number">Lag (bytes)</th><th class="number">Lag (s)</th><th class="number">Reads</th><th class="number">Failures</th></tr></thead>
          <tbody>${data.replicas.map(
            (replica) => html`<tr key=${replica.name}>
              <td>${replica.name}</td><td>${replica.state}</td>
              <td class="number">${formatNumber(replica.lagBytes)}</td><td class="number">${replica.lagSeconds ?? '–'}</td>
              <td class="number">${formatNumber(replica.reads)}</td><td class="number">${formatNumber(replica.failures)}</td>
            </tr>`,
          )}</tbody>
        </table>`
    }
  </section>`;
}
