/** How figures and times read in the console. */
import { html } from './html.js';

const numberFormat = new Intl.NumberFormat('en-US');

/** 12,345 */
export const formatNumber = (value) => (value === null || value === undefined ? '–' : numberFormat.format(value));

/** A windowed count: exact, or "1,000+" with a title saying why. */
export function WindowCount({ value, window }) {
  if (!value.atLeast) return html`<span>${formatNumber(value.count)}</span>`;
  if (value.estimate !== undefined) {
    return html`<span class="estimate" title=${`an estimate from the planner's statistics of the category index (more than the newest ${formatNumber(window)} messages)`}>≈ ${formatNumber(value.estimate)}</span>`;
  }
  return html`<span class="estimate" title=${`at least: only the newest ${formatNumber(window)} messages are counted`}>${formatNumber(value.count)}+</span>`;
}

/** A time in UTC and, beside it, in the browser's time zone. */
export function Time({ iso }) {
  if (iso === null || iso === undefined) return html`<span>–</span>`;
  const date = new Date(iso);
  return html`<span class="time"><span class="utc">${date.toISOString().replace('T', ' ').replace('Z', ' UTC')}</span> <span class="local">${date.toLocaleString()}</span></span>`;
}

/** A time in UTC only, compact. */
export const shortTime = (iso) => (iso === null || iso === undefined ? '–' : new Date(iso).toISOString().replace('T', ' ').slice(0, 19));

/** Parse stored JSON text; undefined when there is none. */
export function parseJson(text) {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A short one-line preview of stored JSON text. */
export const preview = (text, length = 80) => (text === null || text === undefined ? '' : text.length > length ? `${text.slice(0, length)}…` : text);
