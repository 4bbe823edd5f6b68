// Analytics: how the owner's published videos do on each platform (the latest views, likes,
// comments, shares and watch minutes), the totals, and what generating each cost.
import {api} from './api.js';
import {fill, h, toast} from './dom.js';

const FIELDS = [['views', 'Views'], ['likes', 'Likes'], ['comments', 'Comments'], ['shares', 'Shares'],
  ['watch_minutes', 'Watch minutes']];
const num = (v) => (v === null || v === undefined ? '–' : Number(v).toLocaleString());
const usd = (c) => (c.total_usd === null ? 'not metered' : `$${c.total_usd.toFixed(2)}`);

function where(pub) {
  const label = `${pub.platform}${pub.manual ? ' (by hand)' : ''}`;
  return h('li', {}, pub.url ? h('a', {href: pub.url, 'data-external': true, rel: 'noopener noreferrer'}, label) : label);
}

function table(data) {
  const rows = data.videos.map((v) => h('tr', {},
    h('th', {scope: 'row'}, h('a', {href: `/player/${v.artifact_id}`}, v.title)),
    h('td', {}, h('ul', {class: 'plain'}, v.published.map(where))),
    FIELDS.map(([f]) => h('td', {class: 'num'}, num(v.totals[f]))), h('td', {class: 'num'}, usd(v.cost))));
  return h('div', {class: 'scroll'}, h('table', {class: 'analytics'},
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Video'), h('th', {scope: 'col'}, 'Published to'),
      FIELDS.map(([, t]) => h('th', {scope: 'col', class: 'num'}, t)), h('th', {scope: 'col', class: 'num'}, 'Cost'))),
    h('tbody', {}, rows),
    h('tfoot', {}, h('tr', {}, h('th', {scope: 'row'}, 'Total'), h('td'),
      FIELDS.map(([f]) => h('td', {class: 'num'}, num(data.totals[f]))), h('td')))));
}

export async function analyticsPage(main) {
  const body = h('div');
  const draw = async (refresh) => {
    const data = await api(`/api/analytics/dashboard${refresh ? '?refresh=true' : ''}`);
    fill(body, data.videos.length ? table(data)
      : h('p', {class: 'muted'}, 'Nothing published yet: open a video and publish it.'),
    (data.notes || []).map((n) => h('p', {class: 'error'}, typeof n === 'string' ? n : JSON.stringify(n))));
  };
  const refresh = h('button', {type: 'button', onclick: async () => {
    refresh.disabled = true;
    try { await draw(true); toast('Figures read from the platforms'); } catch (ex) { toast(ex.message, 'error'); }
    refresh.disabled = false;
  }}, 'Read the platforms now');
  fill(main, h('h1', {}, 'Analytics'), h('p', {class: 'muted'},
    'The workers read the platforms every hour; the cost is what generating each video took.'),
  h('div', {class: 'row'}, refresh), h('section', {class: 'card'}, body));
  await draw(false);
}
