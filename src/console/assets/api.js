/**
 * The console's API from the page: JSON in and out. Requests carry the token cookie the server set
 * when the page was opened with its token; writes also send the write token in a header.
 */
import { useEffect, useState } from 'preact/hooks';

/** An API answer that was not 2xx. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function answer(response) {
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new ApiError(response.status, body.error ?? `HTTP ${response.status}`);
  return body;
}

/** GET /api/<path>. */
export async function getJson(path) {
  return answer(await fetch(`/api/${path}`, { headers: { accept: 'application/json' }, credentials: 'same-origin' }));
}

/** POST /api/<path> with a JSON body and the write token. */
export async function postJson(path, body, writeToken) {
  const headers = { 'content-type': 'application/json', 'x-messagedb-console-token': writeToken ?? '' };
  return answer(await fetch(`/api/${path}`, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin' }));
}

/** Load `path` (again whenever it changes): `{ data, error, loading, reload }`. */
export function useApi(path) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    getJson(path).then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error) => current && setState({ data: null, error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [path, round]);
  return { ...state, reload: () => setRound((n) => n + 1) };
}
