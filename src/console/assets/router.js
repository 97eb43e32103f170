/**
 * The console's URLs: each view has its own path (deep links survive a reload); links change the
 * history without reloading the page.
 */
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';

const listeners = new Set();

/** Go to `path` (a path with its query) without reloading. */
export function navigate(path) {
  if (path === location.pathname + location.search) return;
  history.pushState(null, '', path);
  for (const listener of listeners) listener();
}

/** The current location, re-rendering when it changes. */
export function useLocation() {
  const [current, setCurrent] = useState(() => ({ path: location.pathname, query: new URLSearchParams(location.search) }));
  useEffect(() => {
    const update = () => setCurrent({ path: location.pathname, query: new URLSearchParams(location.search) });
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return current;
}

/** A path segment for a stream or category name. */
export const segment = (name) => encodeURIComponent(name);

/** Message DB's category of a stream name: everything before the first `-`. */
export const categoryOf = (streamName) => streamName.split('-')[0];

/** The views' paths. */
export const paths = {
  category: (category, correlation) => `/categories/${segment(category)}${correlation ? `?correlation=${encodeURIComponent(correlation)}` : ''}`,
  stream: (streamName, query = '') => `/streams/${segment(streamName)}${query}`,
  message: (streamName, position) => `/streams/${segment(streamName)}/${position}`,
  messageById: (id) => `/messages/${segment(id)}`,
};

/** A link that navigates within the console (a modified click opens a new tab as usual). */
export function Link({ href, children, ...rest }) {
  const onClick = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}
