// Small DOM helpers: an element builder and formatters (no framework, no build step).

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open', 'multiple']);

/** h('a', {href: '/x', onclick: fn}, 'text', child) -> an element. */
export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

/** Replace an element's children. */
export function fill(el, ...kids) {
  el.replaceChildren();
  for (const kid of kids.flat(Infinity)) if (kid !== null && kid !== undefined && kid !== false) el.append(kid);
  return el;
}

let toastTimer = 0;
/** A short message in the live region (read out by screen readers). */
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.dataset.kind = kind;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), kind === 'error' ? 8000 : 4000);
}

export function clock(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

export function authors(list) {
  const names = (list || []).map((a) => (typeof a === 'string' ? a : a.name || '')).filter(Boolean);
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} et al.` : names.join(', ');
}

export function percent(fraction) {
  return `${Math.round((fraction || 0) * 100)}%`;
}

/** A progress bar with its label (role=progressbar for assistive technology). */
export function progressBar(fraction, label) {
  const bar = h('div', {class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100,
    'aria-valuenow': Math.round((fraction || 0) * 100), 'aria-label': label || 'progress'},
  h('span', {style: `width:${percent(fraction)}`}));
  return bar;
}

export function setProgress(bar, fraction) {
  bar.setAttribute('aria-valuenow', String(Math.round((fraction || 0) * 100)));
  bar.firstChild.style.width = percent(fraction);
}
