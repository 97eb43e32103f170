/** `/search?q=`: what a message id or a stream or category name finds. */
import { useApi } from '../api.js';
import { formatNumber } from '../format.js';
import { html } from '../html.js';
import { Link, paths } from '../router.js';

export function SearchView({ q }) {
  const { data, error } = useApi(`search?q=${encodeURIComponent(q)}`);
  if (error) return html`<p class="error">${error.message}</p>`;
  if (data === null) return html`<p class="muted">Searching…</p>`;
  const found = [];
  if (data.message)
    found.push(
      html`<li>Message <${Link} href=${paths.message(data.message.streamName, data.message.position)}>${data.message.streamName} / ${data.message.position}<//> (${data.message.type})</li>`,
    );
  if (data.stream)
    found.push(html`<li>Stream <${Link} href=${paths.stream(data.stream.streamName)}>${data.stream.streamName}<//> at version ${data.stream.version}</li>`);
  if (data.category)
    found.push(
      html`<li>Category <${Link} href=${paths.category(data.category.category)}>${data.category.category}<//>, newest global position ${formatNumber(data.category.headGlobalPosition)}</li>`,
    );
  return html`<section data-view="search">
    <h1>Search: ${q}</h1>
    ${found.length === 0 ? html`<p class="muted">No message, stream or category has this id or name.</p>` : html`<ul class="results">${found}</ul>`}
  </section>`;
}
