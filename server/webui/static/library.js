// Library: the owner's sources, import by drag and drop or URL with live progress, search.
import {api, follow, upload} from './api.js';
import {authors, clock, fill, h, progressBar, setProgress, toast} from './dom.js';

function sourceRow(src) {
  return h('tr', {},
    h('td', {}, h('a', {href: `/sources/${src.source_id}`}, src.title || src.filename || src.source_id)),
    h('td', {}, src.kind), h('td', {}, authors(src.authors)), h('td', {}, src.licence || 'unknown'),
    h('td', {}, src.language || ''), h('td', {}, h('span', {class: `status s-${src.status}`}, src.status)),
    h('td', {}, h('input', {type: 'checkbox', name: 'pick', value: src.source_id,
      'aria-label': `Use “${src.title || src.source_id}” in the studio`})));
}

async function loadSources(tbody, empty) {
  const sources = await api('/api/content?limit=500');
  fill(tbody, sources.map(sourceRow));
  empty.hidden = sources.length > 0;
  return sources;
}

function importItem(list, label) {
  const bar = progressBar(0, `Importing ${label}`);
  const state = h('span', {class: 'muted'}, 'uploading');
  list.append(h('li', {}, h('span', {class: 'name'}, label), bar, state));
  return {bar, state};
}

function followImport(jobId, item, onDone) {
  return follow(jobId, (ev) => {
    if (ev.progress !== undefined && ev.progress !== null) setProgress(item.bar, ev.progress);
    item.state.textContent = ev.status === 'failed' ? `failed: ${ev.error}` : (ev.stage ? `${ev.stage}${ev.status ? ` · ${ev.status}` : ''}` : ev.status || '');
    if (ev.status === 'completed') {
      setProgress(item.bar, 1);
      item.state.textContent = 'imported';
      onDone();
    }
  });
}

function importPanel(stops, refresh) {
  const list = h('ul', {class: 'imports', 'aria-label': 'Imports in progress'});
  const files = h('input', {id: 'files', type: 'file', multiple: true,
    accept: '.pdf,.html,.htm,.docx,.md,.markdown,.txt,application/pdf,text/html,text/markdown,text/plain'});
  const startFiles = async (chosen) => {
    for (const file of chosen) {
      const item = importItem(list, file.name);
      try {
        const job = await upload(file, (f) => setProgress(item.bar, f * 0.1));
        stops.push(followImport(job.job_id, item, refresh));
      } catch (ex) {
        item.state.textContent = `refused: ${ex.message}`;
        toast(`${file.name}: ${ex.message}`, 'error');
      }
    }
  };
  files.addEventListener('change', () => { startFiles([...files.files]); files.value = ''; });
  const zone = h('div', {class: 'drop', tabindex: 0, role: 'button', 'aria-describedby': 'drop-help',
    onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); files.click(); } },
    onclick: () => files.click(),
    ondragover: (e) => { e.preventDefault(); zone.classList.add('over'); },
    ondragleave: () => zone.classList.remove('over'),
    ondrop: (e) => { e.preventDefault(); zone.classList.remove('over'); startFiles([...e.dataTransfer.files]); }},
  h('strong', {}, 'Drop files here'), ' or press to choose (PDF, web page, DOCX, Markdown, text)');
  const url = h('input', {id: 'url', type: 'url', required: true, placeholder: 'https://…', name: 'url'});
  const urlForm = h('form', {class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    const item = importItem(list, url.value);
    try {
      const job = await api('/api/content/import', {method: 'POST', json: {url: url.value}});
      url.value = '';
      stops.push(followImport(job.job_id, item, refresh));
    } catch (ex) {
      item.state.textContent = `refused: ${ex.message}`;
    }
  }}, h('label', {for: 'url'}, 'Import a URL'), url, h('button', {type: 'submit'}, 'Import'));
  return h('section', {class: 'card', 'aria-labelledby': 'import-title'},
    h('h2', {id: 'import-title'}, 'Import'),
    h('label', {for: 'files', class: 'sr-only'}, 'Choose files to import'), files, zone,
    h('p', {id: 'drop-help', class: 'sr-only'}, 'Opens the file chooser'), urlForm, list);
}

function hitItem(hit) {
  const where = hit.start_s !== null && hit.start_s !== undefined ? `at ${clock(hit.start_s)}` : (hit.page ? `p. ${hit.page}` : '');
  const anchor = `/sources/${hit.source_id}?chunk=${encodeURIComponent(hit.chunk_id)}`;
  return h('li', {class: 'hit'},
    h('a', {href: anchor}, hit.title || hit.source_id), ' ', h('span', {class: 'muted'}, where),
    hit.link && hit.start_s !== null ? [' ', h('a', {href: hit.link, 'data-external': true, rel: 'noopener noreferrer'},
      `play from ${clock(hit.start_s)}`)] : null,
    (hit.heading_path || []).length ? h('span', {class: 'muted'}, ` · ${hit.heading_path.join(' › ')}`) : null,
    h('p', {}, hit.text.length > 360 ? `${hit.text.slice(0, 360)}…` : hit.text));
}

function searchPanel() {
  const q = h('input', {id: 'q', type: 'search', name: 'q', required: true, placeholder: 'a question, a phrase, exact terms'});
  const mode = h('select', {id: 'mode', name: 'mode'}, ['hybrid', 'dense', 'sparse'].map((m) => h('option', {value: m}, m)));
  const results = h('ol', {class: 'hits', 'aria-live': 'polite', 'aria-label': 'Search results'});
  const studio = h('a', {class: 'button quiet', hidden: true}, 'Make something from these results');
  const form = h('form', {class: 'row', role: 'search', onsubmit: async (e) => {
    e.preventDefault();
    const hits = await api(`/api/search?q=${encodeURIComponent(q.value)}&mode=${mode.value}&limit=10`);
    fill(results, hits.length ? hits.map(hitItem) : h('li', {class: 'muted'}, 'Nothing found in your library.'));
    const ids = [...new Set(hits.map((x) => x.source_id))];
    studio.hidden = !ids.length;
    studio.href = `/studio?sources=${ids.join(',')}`;
  }}, h('label', {for: 'q'}, 'Search'), q, h('label', {for: 'mode', class: 'sr-only'}, 'Search mode'), mode,
  h('button', {type: 'submit'}, 'Search'));
  return h('section', {class: 'card', 'aria-labelledby': 'search-title'},
    h('h2', {id: 'search-title'}, 'Search your library'), form, results, studio);
}

export async function libraryPage(main) {
  const stops = [];
  const tbody = h('tbody');
  const empty = h('p', {class: 'muted'}, 'No sources yet: import a paper or a page above.');
  const refresh = () => loadSources(tbody, empty);
  const toStudio = h('button', {type: 'button', onclick: () => {
    const ids = [...tbody.querySelectorAll('input[name=pick]:checked')].map((c) => c.value);
    if (!ids.length) return toast('Tick the sources to use first', 'error');
    history.pushState({}, '', `/studio?sources=${ids.join(',')}`);
    dispatchEvent(new PopStateEvent('popstate'));
  }}, 'Open the ticked sources in the studio');
  fill(main, h('h1', {}, 'Library'), h('div', {class: 'grid2'}, importPanel(stops, refresh), searchPanel()),
    h('section', {class: 'card', 'aria-labelledby': 'sources-title'}, h('h2', {id: 'sources-title'}, 'Sources'),
      h('div', {class: 'scroll'}, h('table', {class: 'sources'},
        h('thead', {}, h('tr', {}, ['Title', 'Kind', 'Authors', 'Licence', 'Language', 'Status', 'Use'].map((t) => h('th', {scope: 'col'}, t)))),
        tbody)), empty, toStudio));
  await refresh();
  return () => stops.forEach((stop) => stop());
}
