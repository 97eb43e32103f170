/** A table of messages: global position, stream and position (linked to the message), type, time, data preview. */
import { preview, shortTime } from './format.js';
import { html } from './html.js';
import { Link, paths } from './router.js';

export function MessageTable({ messages, showStream = true, fresh = new Set() }) {
  return html`<table class="list messages">
    <thead><tr><th class="number">Global</th>${showStream ? html`<th>Stream</th>` : null}<th class="number">Position</th><th>Type</th><th>Time (UTC)</th><th>Data</th></tr></thead>
    <tbody>
      ${messages.map(
        (
          message,
        ) => html`<tr key=${message.globalPosition} class=${fresh.has(message.globalPosition) ? 'fresh' : ''} data-global-position=${message.globalPosition}>
          <td class="number">${message.globalPosition}</td>
          ${showStream ? html`<td><${Link} href=${paths.stream(message.streamName)}>${message.streamName}<//></td>` : null}
          <td class="number"><${Link} href=${paths.message(message.streamName, message.position)}>${message.position}<//></td>
          <td>${message.type}</td>
          <td>${shortTime(message.time)}</td>
          <td class="preview">${preview(message.data)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}
