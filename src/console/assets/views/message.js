/**
 * A message (`/streams/{streamName}/{position}` or `/messages/{id}`): its data and metadata as
 * trees, its time in UTC and in the browser's time zone, and links to its cause, its correlation
 * stream and the stream it asks replies on.
 */
import { useApi } from '../api.js';
import { Time, parseJson } from '../format.js';
import { html } from '../html.js';
import { JsonTree } from '../json-tree.js';
import { Link, categoryOf, paths } from '../router.js';

function Links({ metadata, streamName }) {
  if (metadata === null || typeof metadata !== 'object') return null;
  const links = [];
  const causeStream = metadata.causationMessageStreamName;
  const causePosition = metadata.causationMessagePosition;
  if (typeof causeStream === 'string' && Number.isInteger(causePosition)) {
    links.push(html`<li>Caused by <${Link} class="cause" href=${paths.message(causeStream, causePosition)}>${causeStream} / ${causePosition}<//></li>`);
  }
  if (typeof metadata.correlationStreamName === 'string') {
    const correlation = metadata.correlationStreamName;
    const own = categoryOf(streamName);
    links.push(
      html`<li>Correlated with <${Link} class="correlation" href=${paths.stream(correlation)}>${correlation}<//>: the
        <${Link} class="correlated" href=${paths.category(own, categoryOf(correlation))}>messages of ${own} correlated with ${categoryOf(correlation)}<//></li>`,
    );
  }
  if (typeof metadata.replyStreamName === 'string') {
    links.push(html`<li>Replies go to <${Link} class="reply" href=${paths.stream(metadata.replyStreamName)}>${metadata.replyStreamName}<//></li>`);
  }
  return links.length === 0 ? null : html`<ul class="links">${links}</ul>`;
}

export function MessageView({ streamName, position, id }) {
  const path = id === undefined ? `streams/${encodeURIComponent(streamName)}/${encodeURIComponent(position)}` : `messages/${encodeURIComponent(id)}`;
  const { data, error } = useApi(path);
  if (error) return html`<p class="error">${error.message}</p>`;
  if (data === null) return html`<p class="muted">Loading…</p>`;
  const { message } = data;
  const metadata = parseJson(message.metadata);
  return html`<section data-view="message" data-global-position=${message.globalPosition}>
    <h1><span class="muted">message</span> ${message.type}</h1>
    <dl class="facts">
      <dt>Stream</dt><dd><${Link} href=${paths.stream(message.streamName)}>${message.streamName}<//></dd>
      <dt>Position</dt><dd>${message.position}</dd>
      <dt>Global position</dt><dd>${message.globalPosition}</dd>
      <dt>Id</dt><dd><${Link} href=${paths.messageById(message.id)}>${message.id}<//></dd>
      <dt>Time</dt><dd><${Time} iso=${message.time} /></dd>
    </dl>
    <${Links} metadata=${metadata} streamName=${message.streamName} />
    <h2>Data</h2>
    <div class="data"><${JsonTree} value=${parseJson(message.data)} /></div>
    <h2>Metadata</h2>
    <div class="metadata"><${JsonTree} value=${metadata} /></div>
  </section>`;
}
