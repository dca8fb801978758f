// REST calls to /api/v1: JSON in and out, the CSRF header on every unsafe request, and
// one place that notices a session has ended (401) so the app can send the person to
// sign-in without losing what they were typing.

export class ApiError extends Error {
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || `request failed (${status})`);
    this.status = status;
    this.code = problem.code || (status === 0 ? 'network' : 'error');
    this.problem = problem;
  }
}

const config = { csrf: '', onSessionEnded: () => {} };

export function configure({ csrf, onSessionEnded }) {
  if (csrf !== undefined) config.csrf = csrf;
  if (onSessionEnded) config.onSessionEnded = onSessionEnded;
}

export async function api(method, path, body, { signal, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && config.csrf) headers['X-CSRF-Token'] = config.csrf;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, { detail: 'careline could not be reached. Check your connection.' });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 && !quiet401) config.onSessionEnded();
    throw new ApiError(response.status, data);
  }
  return data;
}

/** Every page of a cursor-paginated list, up to `max` items. */
export async function listAll(path, { max = 2000 } = {}) {
  const items = [];
  let cursor = null;
  const sep = path.includes('?') ? '&' : '?';
  do {
    const query = cursor ? `${sep}limit=200&cursor=${encodeURIComponent(cursor)}` : `${sep}limit=200`;
    const page = await api('GET', path + query);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
