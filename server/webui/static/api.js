// The REST API as the studio calls it: same origin, the sign-in cookie, and the CSRF header
// the server asks of cookie-authenticated requests that change data.

export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
export const SETTLED = new Set([...TERMINAL, 'review']); // nothing happens until someone acts
const UI_HEADER = {'X-Librarian-UI': '1'};

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function detailOf(data, status) {
  const d = data && typeof data === 'object' ? data.detail : data;
  if (Array.isArray(d)) return d.map((e) => `${(e.loc || []).slice(1).join('.')}: ${e.msg}`).join('; ');
  return d ? String(d) : `HTTP ${status}`;
}

async function answer(resp) {
  if (resp.status === 204) return null;
  const isJson = (resp.headers.get('content-type') || '').includes('json');
  const data = isJson ? await resp.json() : await resp.text();
  if (!resp.ok) {
    if (resp.status === 401) document.dispatchEvent(new CustomEvent('librarian:signedout'));
    throw new ApiError(resp.status, detailOf(data, resp.status));
  }
  return data;
}

/** api('/api/x', {method, json}) -> parsed JSON; throws ApiError with the server's detail. */
export async function api(path, {method = 'GET', json, signal} = {}) {
  const headers = {...UI_HEADER, Accept: 'application/json'};
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  return answer(await fetch(path, {method, headers, body, signal, credentials: 'same-origin'}));
}

/** Upload a file to the import route, reporting upload progress (0..1); resolves to the job. */
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/content/import');
    xhr.setRequestHeader('X-Librarian-UI', '1');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status === 202) resolve(xhr.response);
      else reject(new ApiError(xhr.status, detailOf(xhr.response, xhr.status)));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network error'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** Follow a job over Server-Sent Events: onEvent(event) for its state, each stage and
 * progress step, and the final status (or `review`, where it waits for the owner); returns a
 * function that stops following. */
export function follow(jobId, onEvent) {
  const source = new EventSource(`/api/jobs/${encodeURIComponent(jobId)}/events`);
  const handle = (e) => {
    const event = JSON.parse(e.data);
    onEvent(event);
    if (event.type === 'status' && SETTLED.has(event.status)) source.close();
  };
  source.addEventListener('status', handle);
  source.addEventListener('progress', handle);
  let stopped = false;
  const poll = async () => { // the stream broke: read the job row (it holds the truth) until it ends
    while (!stopped) {
      try {
        const job = await api(`/api/jobs/${encodeURIComponent(jobId)}`);
        onEvent({type: 'status', ...job});
        if (SETTLED.has(job.status)) return;
      } catch (err) {
        if (err.status) return;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED || stopped) return;
    source.close();
    poll();
  };
  return () => { stopped = true; source.close(); };
}
