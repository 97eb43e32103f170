/**
 * A small SVG line chart (no dependency): x is categorical (e.g. pool sizes 1..32, evenly
 * spaced), y is linear from zero, one polyline per series with a legend. Enough for the scaling
 * curves in BENCHMARKS.md; GitHub renders it inline.
 */

export interface ChartSeries {
  label: string;
  /** One value per x tick; NaN leaves a gap. */
  values: number[];
  /** Drawn dashed: a reference line (the server's own ceiling) rather than a measurement of the client. */
  reference?: boolean;
}

export interface Chart {
  /** File name without extension. */
  name: string;
  title: string;
  xLabel: string;
  yLabel: string;
  xTicks: string[];
  series: ChartSeries[];
}

const width = 640;
const height = 360;
const margin = { top: 40, right: 170, bottom: 50, left: 70 };
const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round upper bound for the y axis: a small whole multiple of a power of ten at or above `value`. */
function niceMaximum(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 3, 4, 5, 6, 8, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function tickLabel(value: number): string {
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(value);
}

export function lineChart(chart: Chart): string {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const maximum = niceMaximum(Math.max(0, ...chart.series.flatMap((series) => series.values.filter(Number.isFinite))));
  const x = (index: number): number => margin.left + (chart.xTicks.length <= 1 ? plotWidth / 2 : (index * plotWidth) / (chart.xTicks.length - 1));
  const y = (value: number): number => margin.top + plotHeight - (value / maximum) * plotHeight;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left}" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  for (let step = 0; step <= 5; step++) {
    const value = (maximum * step) / 5;
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y(value)}" y2="${y(value)}" stroke="#ddd"/>`,
      `<text x="${margin.left - 8}" y="${y(value) + 4}" text-anchor="end">${tickLabel(value)}</text>`,
    );
  }
  chart.xTicks.forEach((tick, index) => {
    parts.push(`<text x="${x(index)}" y="${margin.top + plotHeight + 18}" text-anchor="middle">${escapeXml(tick)}</text>`);
  });
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="#333"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(16 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  );
  chart.series.forEach((series, index) => {
    const colour = colours[index % colours.length] as string;
    // A NaN splits the line, so a missing point is not drawn as a fall to zero.
    const segments: string[][] = [[]];
    series.values.forEach((value, tick) => {
      if (Number.isFinite(value)) segments.at(-1)?.push(`${x(tick).toFixed(1)},${y(value).toFixed(1)}`);
      else segments.push([]);
    });
    for (const points of segments.filter((segment) => segment.length > 0)) {
      const dash = series.reference === true ? ' stroke-dasharray="6 4"' : '';
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${points.join(' ')}"/>`);
      for (const point of points) {
        const [cx, cy] = point.split(',');
        parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${colour}"/>`);
      }
    }
    const legendY = margin.top + 10 + index * 20;
    parts.push(
      `<line x1="${width - margin.right + 15}" x2="${width - margin.right + 35}" y1="${legendY}" y2="${legendY}" stroke="${colour}" stroke-width="2"${series.reference === true ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${width - margin.right + 40}" y="${legendY + 4}">${escapeXml(series.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
