/**
 * A message's data or metadata as a collapsible tree: objects and arrays fold (open to two levels),
 * values are shown as text with their JSON spelling.
 */
import { html } from './html.js';

function Leaf({ value }) {
  const kind = value === null ? 'null' : typeof value;
  return html`<span class=${`json-${kind}`}>${JSON.stringify(value)}</span>`;
}

function Node({ name, value, depth }) {
  const label = name === undefined ? null : html`<span class="json-key">${name}</span>: `;
  if (value === null || typeof value !== 'object') return html`<div class="json-row">${label}<${Leaf} value=${value} /></div>`;
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item]) : Object.entries(value);
  const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return html`<details class="json-node" open=${depth < 2}>
    <summary>${label}<span class="json-summary">${summary}</span></summary>
    <div class="json-children">${entries.map(([key, item]) => html`<${Node} key=${key} name=${key} value=${item} depth=${depth + 1} />`)}</div>
  </details>`;
}

/** The tree of `value` (undefined shows as "none"). */
export function JsonTree({ value }) {
  if (value === undefined) return html`<p class="muted">none</p>`;
  return html`<div class="json-tree"><${Node} value=${value} depth=${0} /></div>`;
}
