/**
 * `/consumers`: every consumer found from its position stream, with its position, the category's
 * head, its lag, its last record and its handled rate; the consumer groups with their members; and
 * the lag over time, refreshed every second while the page is open.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { formatNumber, shortTime } from '../format.js';
import { html } from '../html.js';
import { LagChart } from '../lag-chart.js';
import { Link, paths } from '../router.js';

const REFRESH_MS = 1000;

function ConsumerRows({ consumers }) {
  return html`<table class="list">
    <thead><tr><th>Position stream</th><th>Category</th><th>Group</th><th class="number">Position</th><th class="number">Head</th><th class="number">Lag</th><th>Recorded (UTC)</th><th class="number">Handled/s</th></tr></thead>
    <tbody>${consumers.map(
      (row) => html`<tr key=${row.positionStream} data-position-stream=${row.positionStream}>
        <td><${Link} href=${paths.stream(row.positionStream)}>${row.positionStream}<//></td>
        <td><${Link} href=${paths.category(row.category)}>${row.category}<//></td>
        <td>${row.consumerGroup === null ? '–' : `${row.consumerGroup.member} of ${row.consumerGroup.size}`}</td>
        <td class="number">${formatNumber(row.position)}</td>
        <td class="number">${formatNumber(row.head)}</td>
        <td class="number lag">${formatNumber(row.lag)}</td>
        <td>${shortTime(row.recordedAt)}</td>
        <td class="number">${row.handledPerSecond === null ? '–' : row.handledPerSecond.toFixed(1)}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

export function ConsumersView() {
  const history = useRef({ times: [], lags: new Map() });
  const [snapshot, setSnapshot] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stopped = false;
    let timer;
    const refresh = async () => {
      try {
        const data = await getJson('consumers');
        if (stopped) return;
        const { times, lags } = history.current;
        times.push(Date.parse(data.time) / 1000);
        for (const row of data.consumers) if (!lags.has(row.positionStream)) lags.set(row.positionStream, Array(times.length - 1).fill(null));
        for (const [name, values] of lags) values.push(data.consumers.find((row) => row.positionStream === name)?.lag ?? null);
        setSnapshot(data);
        setError(null);
      } catch (failure) {
        if (!stopped) setError(failure);
      }
      if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
    };
    refresh();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  if (snapshot === null) return error ? html`<p class="error">${error.message}</p>` : html`<p class="muted">Loading…</p>`;
  return html`<section data-view="consumers">
    <h1>Consumers</h1>
    ${error ? html`<p class="error">${error.message}</p>` : null}
    ${snapshot.consumers.length === 0 ? html`<p class="muted">No consumer position streams.</p>` : html`<${ConsumerRows} consumers=${snapshot.consumers} />`}
    <h2>Lag over time</h2>
    <${LagChart} history=${history.current} revision=${history.current.times.length} />
    <h2>Consumer groups</h2>
    ${
      snapshot.groups.length === 0
        ? html`<p class="muted">No consumer groups recorded.</p>`
        : snapshot.groups.map(
            (group) => html`<div class="group" key=${`${group.category} ${group.identifier} ${group.size}`} data-group=${group.identifier ?? ''}>
              <h3>${group.identifier ?? '(no identifier)'} on ${group.category}: ${group.size} members</h3>
              <${ConsumerRows} consumers=${group.members} />
            </div>`,
          )
    }
    <p class="muted note">Refreshed every second. Lag: the category's head (of the member's share, for a consumer group member) minus the recorded position.</p>
  </section>`;
}
