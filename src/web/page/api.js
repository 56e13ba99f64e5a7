// The server's native API as the page uses it: every request carries the API key when the server wants
// one (asked once, kept in this browser), and every refusal becomes an ApiError naming what is wrong.
const KEY_STORAGE = 'darkroom.apiKey';

export class ApiError extends Error {
  constructor(status, { code = '', message = '', field = '' } = {}, retryAfter = 0) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;  // seconds, for 429
  }
}

let askForKey = async () => { throw new ApiError(401, { message: 'this server needs an API key' }); };

// How the page asks its user for a key: an async function(problem) resolving to the key typed.
export function onKeyNeeded(ask) { askForKey = ask; }

export const apiKey = () => localStorage.getItem(KEY_STORAGE) ?? '';

// A URL the browser loads by itself (EventSource, <img>, downloads) cannot send a header: the key goes in
// the query, as the server accepts for exactly these clients.
export function withKey(url) {
  const key = apiKey();
  if (!key) return url;
  return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(key)}`;
}

async function failure(response) {
  let error = {};
  try {
    error = (await response.json()).error ?? {};
  } catch {
    error = { message: `${response.status} ${response.statusText}` };
  }
  return new ApiError(response.status, error, Number(response.headers.get('Retry-After') ?? 0));
}

// fetch with the key; a 401 asks for a key (saying why when one was already given) and tries again.
export async function api(path, { method = 'GET', body } = {}) {
  for (;;) {
    const headers = { Accept: 'application/json' };
    if (apiKey()) headers.Authorization = `Bearer ${apiKey()}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401) {
      const problem = apiKey() ? 'The server did not accept that key.' : '';
      localStorage.setItem(KEY_STORAGE, await askForKey(problem));
      continue;
    }
    if (!response.ok) throw await failure(response);
    return response.json();
  }
}
