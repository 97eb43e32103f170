/**
 * `/categories/{category}`: its counts, message types, streams (a page at a time, in name order)
 * and its newest messages, followed live over server-sent events.
 */
import { useEffect, useState } from 'preact/hooks';
import { getJson, useApi } from '../api.js';
import { WindowCount, formatNumber, shortTime } from '../format.js';
import { html } from '../html.js';
import { MessageTable } from '../message-table.js';
import { Link, paths } from '../router.js';

const TAIL_SHOWN = 50;

function LiveTail({ category, correlation }) {
  const [messages, setMessages] = useState([]);
  const [fresh, setFresh] = useState(new Set());
  const [state, setState] = useState('loading');
  useEffect(() => {
    let source;
    let closed = false;
    const filter = correlation ? `&correlation=${encodeURIComponent(correlation)}` : '';
    getJson(`categories/${encodeURIComponent(category)}/messages?limit=20${filter}`).then(
      ({ messages: newest, headGlobalPosition }) => {
        if (closed) return;
        setMessages(newest);
        // From the category's head: a filtered tail must not walk back over what it did not show.
        const after = Math.max(newest[0]?.globalPosition ?? 0, headGlobalPosition);
        source = new EventSource(`/api/categories/${encodeURIComponent(category)}/tail?after=${after}${filter}`);
        source.addEventListener('open', () => setState('live'));
        source.addEventListener('error', () => setState('reconnecting'));
        source.addEventListener('messages', (event) => {
          const added = JSON.parse(event.data).reverse();
          setFresh(new Set(added.map((message) => message.globalPosition)));
          setMessages((shown) => [...added, ...shown].slice(0, TAIL_SHOWN));
        });
      },
      (error) => setState(`failed: ${error.message}`),
    );
    return () => {
      closed = true;
      source?.close();
    };
  }, [category, correlation]);
  return html`<section class="tail" data-live=${state}>
    <h2>
      ${correlation ? `Newest messages correlated with ${correlation}` : 'Newest messages'} <span class=${`live ${state}`}>${state === 'live' ? '● live' : state}</span>
    </h2>
    ${correlation ? html`<p><${Link} href=${paths.category(category)}>All of ${category}<//></p>` : null}
    <${MessageTable} messages=${messages} fresh=${fresh} />
    ${messages.length === 0 ? html`<p class="muted">No messages yet: new ones appear here as they are written.</p>` : null}
  </section>`;
}

function Streams({ category, from }) {
  const query = from === null || from === undefined ? '' : `?from=${encodeURIComponent(from)}`;
  const { data, error } = useApi(`categories/${encodeURIComponent(category)}/streams${query}`);
  if (error) return html`<p class="error">${error.message}</p>`;
  if (data === null) return html`<p class="muted">Loading streams…</p>`;
  return html`<section class="streams">
    <h2>Streams</h2>
    <table class="list">
      <thead><tr><th>Stream</th><th class="number">Version</th><th>Last type</th><th>Last written (UTC)</th></tr></thead>
      <tbody>
        ${data.streams.map(
          (stream) => html`<tr key=${stream.streamName} data-stream=${stream.streamName}>
            <td><${Link} href=${paths.stream(stream.streamName)}>${stream.streamName}<//></td>
            <td class="number">${stream.version}</td>
            <td>${stream.lastType}</td>
            <td>${shortTime(stream.time)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <p class="pager">
      ${from ? html`<${Link} href=${paths.category(category)}>First streams<//>` : null}
      ${data.next !== null ? html`<${Link} href=${`${paths.category(category)}?from=${encodeURIComponent(data.next)}`}>Next streams →<//>` : null}
    </p>
  </section>`;
}

export function CategoryView({ category, from, correlation }) {
  const { data, error } = useApi(`categories/${encodeURIComponent(category)}`);
  return html`<section data-view="category" data-category=${category}>
    <h1><span class="muted">category</span> ${category}</h1>
    ${error ? html`<p class="error">${error.message}</p>` : null}
    ${
      data === null
        ? null
        : html`<p class="totals">
          <span><${WindowCount} value=${data.messages} window=${data.window} /> messages</span>
          <span><${WindowCount} value=${data.streams} window=${data.window} /> streams</span>
          <span>head global position ${formatNumber(data.headGlobalPosition)}</span>
          <span>newest ${shortTime(data.newestTime)} UTC</span>
        </p>
        <section class="types">
          <h2>Message types</h2>
          <table class="list compact">
            <thead><tr><th>Type</th><th class="number">Messages</th></tr></thead>
            <tbody>${data.types.map((row) => html`<tr key=${row.type} data-type=${row.type}><td>${row.type}</td><td class="number">${formatNumber(row.messages)}</td></tr>`)}</tbody>
          </table>
          ${data.messages.atLeast ? html`<p class="muted note">Types of the newest ${formatNumber(data.window)} messages.</p>` : null}
        </section>`
    }
    <div class="columns">
      <${Streams} category=${category} from=${from} />
      <${LiveTail} category=${category} correlation=${correlation} />
    </div>
    <p><${Link} href="/">← Overview<//></p>
  </section>`;
}
