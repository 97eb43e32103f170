/**
 * `/dead-letters`: every dead-letter stream with its messages by state; `/dead-letters/{streamName}`:
 * its parked messages with the failure, and (when the console allows writes) replay or discard.
 */
import { useState } from 'preact/hooks';
import { postJson, useApi } from '../api.js';
import { formatNumber, shortTime } from '../format.js';
import { html } from '../html.js';
import { Link, paths, segment } from '../router.js';

export function DeadLetterStreamsView() {
  const { data, error } = useApi('dead-letters');
  if (error) return html`<p class="error">${error.message}</p>`;
  if (data === null) return html`<p class="muted">Loading…</p>`;
  return html`<section data-view="dead-letters">
    <h1>Dead letters</h1>
    ${
      data.streams.length === 0
        ? html`<p class="muted">No dead-letter streams: no consumer has parked a message.</p>`
        : html`<table class="list">
          <thead><tr><th>Dead-letter stream</th><th class="number">Parked</th><th class="number">Replay requested</th><th class="number">Replayed</th><th class="number">Discarded</th></tr></thead>
          <tbody>${data.streams.map(
            (stream) => html`<tr key=${stream.streamName} data-dead-letter-stream=${stream.streamName}>
              <td><${Link} href=${`/dead-letters/${segment(stream.streamName)}`}>${stream.streamName}<//></td>
              <td class="number">${formatNumber(stream.counts.parked)}</td>
              <td class="number">${formatNumber(stream.counts['replay requested'])}</td>
              <td class="number">${formatNumber(stream.counts.replayed)}</td>
              <td class="number">${formatNumber(stream.counts.discarded)}</td>
            </tr>`,
          )}</tbody>
        </table>`
    }
  </section>`;
}

export function DeadLettersView({ streamName, info }) {
  const { data, error, reload } = useApi(`dead-letters/${segment(streamName)}`);
  const [result, setResult] = useState(null);
  const decide = async (decision, globalPosition) => {
    try {
      const answer = await postJson(`dead-letters/${segment(streamName)}/${decision}`, { globalPositions: [globalPosition] }, info.writeToken);
      setResult(`${decision === 'replay' ? 'replay requested for' : 'discarded'} global position ${answer.decided.join(', ')}`);
    } catch (failure) {
      setResult(`refused: ${failure.message}`);
    }
    reload();
  };
  if (error) return html`<p class="error">${error.message}</p>`;
  if (data === null) return html`<p class="muted">Loading…</p>`;
  const waiting = (letter) => letter.state === 'parked' || letter.state === 'replay requested';
  return html`<section data-view="dead-letter-stream" data-stream=${streamName}>
    <h1><span class="muted">dead letters</span> ${streamName}</h1>
    ${result === null ? null : html`<p class="result">${result}</p>`}
    <table class="list">
      <thead><tr><th class="number">Global</th><th>Original</th><th>Type</th><th>State</th><th>Error</th><th class="number">Attempts</th><th>Parked (UTC)</th><th class="number">Copies</th>${info.readOnly ? null : html`<th></th>`}</tr></thead>
      <tbody>${data.deadLetters.map(
        (letter) => html`<tr key=${letter.globalPosition} data-global-position=${letter.globalPosition} data-state=${letter.state}>
          <td class="number">${letter.globalPosition}</td>
          <td><${Link} href=${paths.message(letter.streamName, letter.position)}>${letter.streamName} / ${letter.position}<//></td>
          <td><${Link} href=${paths.message(streamName, letter.deadLetterPosition)}>${letter.type}<//></td>
          <td class="state">${letter.state}${letter.reason === undefined ? '' : `: ${letter.reason}`}</td>
          <td class="preview">${letter.failure.error.name}: ${letter.failure.error.message}</td>
          <td class="number">${letter.failure.attempts}</td>
          <td>${shortTime(letter.parkedAt)}</td>
          <td class="number">${letter.copies}</td>
          ${
            info.readOnly
              ? null
              : html`<td>${
                  waiting(letter)
                    ? html`<button class="replay" onClick=${() => decide('replay', letter.globalPosition)}>Replay</button>
                      <button class="discard" onClick=${() => decide('discard', letter.globalPosition)}>Discard</button>`
                    : null
                }</td>`
          }
        </tr>`,
      )}</tbody>
    </table>
    ${info.readOnly ? html`<p class="muted note">Read-only: start the console with --allow-writes to replay or discard.</p>` : null}
    <p><${Link} href="/dead-letters">← Dead letters<//></p>
  </section>`;
}
