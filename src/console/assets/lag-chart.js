/**
 * The consumers' lag over time: one uPlot line per consumer, a point every refresh. The chart's
 * element carries the sample count and the newest lags as data attributes.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const MAX_POINTS = 300;

/** `history`: `{ times: number[] (seconds), lags: Map<positionStream, (number|null)[]> }`. */
export function LagChart({ history, revision }) {
  const element = useRef(null);
  const chart = useRef(null);
  const names = [...history.lags.keys()];
  const key = names.join('\n');
  useEffect(() => {
    if (element.current === null) return;
    chart.current?.destroy();
    const series = [{}, ...names.map((name, index) => ({ label: name, stroke: colors[index % colors.length], width: 2, spanGaps: true }))];
    const width = Math.max(320, element.current.clientWidth || 800);
    chart.current = new uPlot(
      {
        width,
        height: 240,
        series,
        scales: { x: { time: true }, y: { range: (_chart, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { label: 'lag (messages)' }],
      },
      chartData(history, names),
      element.current,
    );
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [key]);
  useEffect(() => chart.current?.setData(chartData(history, names)), [revision]);
  const latest = Object.fromEntries(names.map((name) => [name, history.lags.get(name).at(-1) ?? null]));
  return html`<div class="lag-chart" ref=${element} data-samples=${history.times.length} data-lags=${JSON.stringify(latest)}></div>`;
}

function chartData(history, names) {
  return [history.times.slice(-MAX_POINTS), ...names.map((name) => history.lags.get(name).slice(-MAX_POINTS))];
}
