// The studio's entry: sign-in, the page for the path, and in-app navigation.
import {api, ApiError} from './api.js';
import {fill, h, toast} from './dom.js';

const main = document.getElementById('main');
let session = null;
let leave = null; // the current page's clean-up (stops event streams)

const ROUTES = [
  [/^\/$/, 'library', () => import('./library.js').then((m) => m.libraryPage)],
  [/^\/sources\/([^/]+)$/, 'library', () => import('./source.js').then((m) => m.sourcePage)],
  [/^\/studio$/, 'studio', () => import('./studio.js').then((m) => m.studioPage)],
  [/^\/player\/([^/]+)$/, 'studio', () => import('./player.js').then((m) => m.playerPage)],
  [/^\/jobs$/, 'jobs', () => import('./jobs.js').then((m) => m.jobsPage)],
  [/^\/jobs\/([^/]+)$/, 'jobs', () => import('./jobs.js').then((m) => m.jobPage)],
  [/^\/analytics$/, 'analytics', () => import('./analytics.js').then((m) => m.analyticsPage)],
];

export function go(path) {
  history.pushState({}, '', path);
  render();
}

function signInForm() {
  const key = h('input', {id: 'key', name: 'key', type: 'password', required: true,
    autocomplete: 'current-password', placeholder: 'lib_…', 'aria-describedby': 'key-help'});
  const err = h('p', {class: 'error', role: 'alert'});
  const form = h('form', {class: 'card narrow', 'aria-labelledby': 'signin-title', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      session = await api('/api/session', {method: 'POST', json: {key: key.value}});
      key.value = '';
      showWho();
      if (location.pathname === '/signin') history.replaceState({}, '', '/');
      render();
    } catch (ex) {
      err.textContent = ex.message;
      key.focus();
    }
  }},
  h('h1', {id: 'signin-title'}, 'Sign in'),
  h('label', {for: 'key'}, 'API key'), key,
  h('p', {id: 'key-help', class: 'muted'}, 'Make one with ', h('code', {}, 'librarian keys create NAME'),
    '. It is kept in an HttpOnly cookie for this site only.'),
  err, h('button', {type: 'submit'}, 'Sign in'));
  fill(main, form);
  key.focus();
}

function showWho() {
  document.getElementById('who').textContent = session ? `Signed in as ${session.owner}` : '';
  document.getElementById('signout').hidden = !session || session.auth === 'none';
}

async function render() {
  if (leave) { leave(); leave = null; }
  if (!session) return signInForm();
  const path = location.pathname;
  const route = ROUTES.find(([re]) => re.test(path));
  for (const a of document.querySelectorAll('nav a[data-nav]')) {
    if (route && a.dataset.nav === route[1]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!route) return fill(main, h('h1', {}, 'Not found'), h('p', {}, h('a', {href: '/'}, 'Back to the library')));
  const page = await route[2]();
  const args = path.match(route[0]).slice(1).map(decodeURIComponent);
  try {
    leave = (await page(main, ...args)) || null;
  } catch (ex) {
    if (ex instanceof ApiError && ex.status === 401) return;
    fill(main, h('h1', {}, 'Something went wrong'), h('p', {class: 'error', role: 'alert'}, ex.message));
  }
  document.title = `${main.querySelector('h1')?.textContent || 'Librarian'} · Librarian`;
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || a.dataset.external !== undefined || a.target || a.hasAttribute('download')) return;
  if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api') || url.pathname.startsWith('/docs')) return;
  e.preventDefault();
  history.pushState({}, '', url.pathname + url.search + url.hash);
  render().then(() => main.focus({preventScroll: false}));
});
window.addEventListener('popstate', render);
document.addEventListener('librarian:signedout', () => {
  if (!session) return;
  session = null;
  showWho();
  toast('Signed out: sign in again', 'error');
  render();
});
document.getElementById('signout').addEventListener('click', async () => {
  await api('/api/session', {method: 'DELETE'});
  session = null;
  showWho();
  render();
});

(async () => {
  try {
    session = await api('/api/session');
  } catch {
    session = null;
  }
  showWho();
  render();
})();
