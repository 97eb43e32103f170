/** `/`: the categories (a page at a time) with their counts, newest message and write rate; the store's totals. */
import { useApi } from '../api.js';
import { WindowCount, formatNumber, shortTime } from '../format.js';
import { html } from '../html.js';
import { Link, paths } from '../router.js';
import { Sparkline } from '../sparkline.js';

export function OverviewView({ after }) {
  const { data, error } = useApi(`overview?after=${encodeURIComponent(after)}`);
  if (error) return html`<p class="error">${error.message}</p>`;
  if (data === null) return html`<p class="muted">Loading…</p>`;
  const { totals } = data;
  return html`<section data-view="overview">
    <h1>Overview</h1>
    <p class="totals">
      <span>${totals.categories.atLeast ? 'more than ' : ''}${formatNumber(totals.categories.count)} categories</span>
      <span title="the newest global position: every message ever written has one up to it">newest global position ${formatNumber(totals.headGlobalPosition)}</span>
      <span class="estimate" title="the planner's estimate (pg_class.reltuples), refreshed by VACUUM and ANALYZE">
        ${totals.estimatedMessages === null ? 'no row estimate yet' : `≈ ${formatNumber(totals.estimatedMessages)} messages (estimate)`}
      </span>
    </p>
    <table class="list">
      <thead><tr><th>Category</th><th class="number">Messages</th><th class="number">Streams</th><th>Newest</th><th>Last 30 min</th></tr></thead>
      <tbody>
        ${data.categories.map(
          (row) => html`<tr key=${row.category} data-category=${row.category}>
            <td><${Link} href=${paths.category(row.category)}>${row.category}<//></td>
            <td class="number"><${WindowCount} value=${row.messages} window=${data.window} /></td>
            <td class="number"><${WindowCount} value=${row.streams} window=${data.window} /></td>
            <td>${shortTime(row.newestTime)}</td>
            <td><${Sparkline} values=${row.perMinute} title=${`messages per minute, last 30 minutes (of the newest ${formatNumber(data.window)})`} /></td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${data.categories.length === 0 ? html`<p class="muted">No messages yet.</p>` : null}
    <p class="pager">
      ${after !== '' ? html`<${Link} href="/">First page<//>` : null}
      ${data.next !== null ? html`<${Link} href=${`/?after=${encodeURIComponent(data.next)}`}>Next categories →<//>` : null}
    </p>
    <p class="muted note">Counts over each category's newest ${formatNumber(data.window)} messages: "+" means at least that many, "≈" is the planner's estimate for a bigger category.</p>
  </section>`;
}
