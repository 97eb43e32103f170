/** `/doctor`: the findings of `diagnose()` on this store (what `messagedb doctor` prints), worst first. */
import { useApi } from '../api.js';
import { html } from '../html.js';

const order = { error: 0, warning: 1, info: 2 };

export function DoctorView() {
  const { data, error, loading, reload } = useApi('doctor');
  if (error) return html`<p class="error">${error.message}</p>`;
  if (data === null) return html`<p class="muted">Checking the store…</p>`;
  const findings = [...data.findings].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3));
  return html`<section data-view="doctor">
    <h1>Doctor</h1>
    <p><button onClick=${reload} disabled=${loading}>Check again</button></p>
    <table class="list findings">
      <thead><tr><th>Severity</th><th>Check</th><th>Subject</th><th>Seen</th><th>Advice</th></tr></thead>
      <tbody>${findings.map(
        (finding, index) => html`<tr key=${index} class=${`severity-${finding.severity}`} data-code=${finding.code}>
          <td>${finding.severity}</td><td>${finding.code}</td><td>${finding.subject}</td><td class="wrap">${finding.detail}</td><td class="wrap">${finding.advice}</td>
        </tr>`,
      )}</tbody>
    </table>
  </section>`;
}
