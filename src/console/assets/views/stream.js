/**
 * `/streams/{streamName}`: its messages a page at a time, newest first (`?direction=backward`, the
 * default) or oldest first (`?direction=forward`), from `?position=`; its version; and, when the
 * console allows writes, a form to write a message to it.
 */
import { useState } from 'preact/hooks';
import { postJson, useApi } from '../api.js';
import { html } from '../html.js';
import { MessageTable } from '../message-table.js';
import { Link, paths } from '../router.js';

const PAGE = 20;

function WriteForm({ streamName, version, writeToken, onWritten }) {
  const [type, setType] = useState('');
  const [data, setData] = useState('{}');
  const [result, setResult] = useState(null);
  const onSubmit = async (event) => {
    event.preventDefault();
    try {
      const written = await postJson(
        `streams/${encodeURIComponent(streamName)}/messages`,
        { type, data: JSON.parse(data), expectedVersion: version ?? -1 },
        writeToken,
      );
      setResult(`written at position ${written.position}`);
      onWritten();
    } catch (error) {
      setResult(`refused: ${error.message}`);
    }
  };
  return html`<form class="write" onSubmit=${onSubmit}>
    <h2>Write a message</h2>
    <label>Type <input name="type" value=${type} required onInput=${(event) => setType(event.currentTarget.value)} /></label>
    <label>Data (JSON) <textarea name="data" rows="3" value=${data} onInput=${(event) => setData(event.currentTarget.value)}></textarea></label>
    <button type="submit">Write at version ${version ?? 'none'}</button>
    ${result === null ? null : html`<p class="result">${result}</p>`}
  </form>`;
}

export function StreamView({ streamName, query, info }) {
  const direction = query.get('direction') === 'forward' ? 'forward' : 'backward';
  const position = query.get('position');
  const apiQuery = `direction=${direction}&limit=${PAGE}${position === null ? '' : `&position=${encodeURIComponent(position)}`}`;
  const { data, error, reload } = useApi(`streams/${encodeURIComponent(streamName)}?${apiQuery}`);
  if (error) return html`<p class="error">${error.message}</p>`;
  if (data === null) return html`<p class="muted">Loading…</p>`;
  const { messages, version } = data;
  const first = messages[0]?.position;
  const last = messages.at(-1)?.position;
  const here = (dir, at) => paths.stream(streamName, `?direction=${dir}${at === undefined ? '' : `&position=${at}`}`);
  // Older and newer pages, whichever way this page reads.
  const older = direction === 'backward' ? (last > 0 ? here('backward', last - 1) : null) : first > 0 ? here('backward', first - 1) : null;
  const newer = direction === 'backward' ? (first < version ? here('forward', first + 1) : null) : last < version ? here('forward', last + 1) : null;
  return html`<section data-view="stream" data-stream=${streamName}>
    <h1><span class="muted">stream</span> ${streamName}</h1>
    <p class="totals">
      <span>version ${version === null ? 'none (no messages)' : version}</span>
      <span>category <${Link} href=${paths.category(data.category)}>${data.category}<//></span>
      <span>${direction === 'backward' ? 'newest first' : 'oldest first'}</span>
    </p>
    <p class="pager">
      <${Link} href=${here('backward')}>Newest<//>
      ${newer === null ? null : html`<${Link} href=${newer} rel="prev">← Newer<//>`}
      ${older === null ? null : html`<${Link} href=${older} rel="next">Older →<//>`}
      <${Link} href=${here('forward', 0)}>Oldest<//>
    </p>
    <${MessageTable} messages=${messages} showStream=${false} />
    ${info.readOnly ? null : html`<${WriteForm} streamName=${streamName} version=${version} writeToken=${info.writeToken} onWritten=${reload} />`}
  </section>`;
}
