/**
 * The console page: the header (views, search, the database and whether writes are allowed) and
 * the view the URL names.
 */
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { useApi } from './api.js';
import { html } from './html.js';
import { Link, navigate, useLocation } from './router.js';
import { CategoryView } from './views/category.js';
import { ConsumersView } from './views/consumers.js';
import { DeadLetterStreamsView, DeadLettersView } from './views/dead-letters.js';
import { DoctorView } from './views/doctor.js';
import { MessageView } from './views/message.js';
import { OverviewView } from './views/overview.js';
import { ReplicasView } from './views/replicas.js';
import { SearchView } from './views/search.js';
import { StreamView } from './views/stream.js';

function SearchBox() {
  const [text, setText] = useState('');
  const onSubmit = (event) => {
    event.preventDefault();
    if (text.trim() !== '') navigate(`/search?q=${encodeURIComponent(text.trim())}`);
  };
  return html`<form class="search" onSubmit=${onSubmit} role="search">
    <input name="q" placeholder="message id or stream name" value=${text} onInput=${(event) => setText(event.currentTarget.value)} />
    <button type="submit">Search</button>
  </form>`;
}

function View({ path, query, info }) {
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  const [first, second, third] = parts;
  if (path === '/') return html`<${OverviewView} after=${query.get('after') ?? ''} />`;
  if (first === 'categories' && second !== undefined)
    return html`<${CategoryView} category=${second} from=${query.get('from')} correlation=${query.get('correlation')} />`;
  if (first === 'streams' && second !== undefined && third !== undefined) return html`<${MessageView} streamName=${second} position=${third} />`;
  if (first === 'streams' && second !== undefined) return html`<${StreamView} streamName=${second} query=${query} info=${info} />`;
  if (first === 'messages' && second !== undefined) return html`<${MessageView} id=${second} />`;
  if (first === 'consumers') return html`<${ConsumersView} />`;
  if (first === 'replicas') return html`<${ReplicasView} />`;
  if (first === 'dead-letters' && second !== undefined) return html`<${DeadLettersView} streamName=${second} info=${info} />`;
  if (first === 'dead-letters') return html`<${DeadLetterStreamsView} />`;
  if (first === 'doctor') return html`<${DoctorView} />`;
  if (first === 'search') return html`<${SearchView} q=${query.get('q') ?? ''} />`;
  return html`<p class="error">No such page.</p>`;
}

function App() {
  const { path, query } = useLocation();
  const info = useApi('info');
  if (info.error) return html`<p class="error">${info.error.message}</p>`;
  if (info.data === null) return html`<p class="muted">Loading…</p>`;
  return html`<header>
      <nav>
        <strong class="brand">messagedb console</strong>
        <${Link} href="/">Overview<//>
        <${Link} href="/consumers">Consumers<//>
        <${Link} href="/dead-letters">Dead letters<//>
        <${Link} href="/replicas">Replicas<//>
        <${Link} href="/doctor">Doctor<//>
      </nav>
      <${SearchBox} />
      <span class="target" title="the database">${info.data.target}</span>
      <span class=${info.data.readOnly ? 'badge read-only' : 'badge writes'}>${info.data.readOnly ? 'read-only' : 'writes allowed'}</span>
    </header>
    <main key=${path}><${View} path=${path} query=${query} info=${info.data} /></main>`;
}

const root = document.getElementById('app');
// Preact keeps what the element already holds; the page's "Loading…" goes first.
root.textContent = '';
render(html`<${App} />`, root);
