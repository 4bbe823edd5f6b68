// One source: metadata, licence, sections, figures, citation network, what was generated from
// it, its paragraphs (a search hit opens here at its paragraph), and soft or hard delete.
import {api} from './api.js';
import {authors, clock, fill, h, toast, when} from './dom.js';
import {go} from './app.js';

function facts(src) {
  const rows = [['Kind', src.kind], ['Authors', authors(src.authors)], ['Published', src.published],
    ['Licence', src.licence || 'unknown'], ['Language', src.language], ['Status', src.status],
    ['Pages', src.pages], ['Duration', src.duration_s ? clock(src.duration_s) : null],
    ['DOI', src.doi], ['URL', src.url ? h('a', {href: src.url, rel: 'noopener noreferrer', 'data-external': true}, src.url) : null],
    ['File', src.filename], ['Imported', when(src.created_at)], ['Paragraphs', src.chunks],
    ['References', src.references]];
  return h('dl', {class: 'facts'}, rows.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function network(net) {
  const title = Object.fromEntries(net.nodes.map((n) => [n.source_id, n.title || n.source_id]));
  const link = (id) => h('li', {}, h('a', {href: `/sources/${id}`}, title[id] || id));
  return h('section', {class: 'card', 'aria-labelledby': 'net-title'}, h('h2', {id: 'net-title'}, 'Citation network'),
    h('h3', {}, 'Cites (in your library)'), net.cites.length ? h('ul', {}, net.cites.map(link)) : h('p', {class: 'muted'}, 'None found.'),
    h('h3', {}, 'Cited by (in your library)'), net.cited_by.length ? h('ul', {}, net.cited_by.map(link)) : h('p', {class: 'muted'}, 'None found.'));
}

function generated(items) {
  return h('section', {class: 'card', 'aria-labelledby': 'gen-title'}, h('h2', {id: 'gen-title'}, 'Generated from it'),
    items.length ? h('ul', {}, items.map((a) => h('li', {}, h('a', {href: `/player/${a.artifact_id}`}, a.title || a.artifact_id),
      h('span', {class: 'muted'}, ` · ${a.kind}${a.via !== 'direct' ? ` (${a.via})` : ''}`)))) : h('p', {class: 'muted'}, 'Nothing yet.'));
}

function figures(src) {
  if (!src.figures.length) return null;
  return h('section', {class: 'card', 'aria-labelledby': 'fig-title'}, h('h2', {id: 'fig-title'}, 'Figures and tables'),
    h('div', {class: 'figures'}, src.figures.map((f) => h('figure', {},
      h('img', {src: `/api/images/${f.id}`, alt: f.caption || f.label, loading: 'lazy'}),
      h('figcaption', {}, h('strong', {}, f.label), f.page ? ` (p. ${f.page}) ` : ' ', f.caption)))));
}

function paragraphs(chunks, focus) {
  return h('section', {class: 'card', 'aria-labelledby': 'text-title'}, h('h2', {id: 'text-title'}, 'Text'),
    h('div', {class: 'paras'}, chunks.map((c) => h('p', {id: `chunk-${c.chunk_id}`, class: c.chunk_id === focus ? 'focus' : null,
      tabindex: c.chunk_id === focus ? -1 : null},
    h('span', {class: 'where'}, c.start_s !== null ? clock(c.start_s) : (c.page ? `p. ${c.page}` : '')),
    (c.heading_path || []).length ? h('span', {class: 'muted'}, `${c.heading_path.join(' › ')} · `) : null, c.text))));
}

function deleteDialog(src, dependants) {
  const hard = h('input', {type: 'checkbox', id: 'hard'});
  const names = dependants.map((a) => `${a.title || a.artifact_id} (${a.kind})`);
  const dialog = h('dialog', {'aria-labelledby': 'del-title'},
    h('form', {method: 'dialog'},
      h('h2', {id: 'del-title'}, `Delete “${src.title}”?`),
      h('p', {}, 'A soft delete hides it from the library, search and the studio; it can be kept for provenance.'),
      h('p', {}, hard,
        h('label', {for: 'hard'}, ' Delete for good: remove its file, paragraphs, vectors and links')),
      h('p', {id: 'cascade'}, dependants.length
        ? ['A hard delete also marks these as orphaned (their files stay): ', h('strong', {}, names.join('; '))]
        : `A hard delete removes ${src.chunks || 0} paragraph(s) and ${src.figures.length} figure(s); nothing was generated from it.`),
      h('div', {class: 'row'}, h('button', {value: 'cancel', class: 'quiet'}, 'Keep it'),
        h('button', {value: 'delete', class: 'danger'}, 'Delete'))));
  return {dialog, hard: () => hard.checked};
}

async function remove(src, dependants) {
  const {dialog, hard} = deleteDialog(src, dependants);
  document.body.append(dialog);
  dialog.showModal();
  dialog.addEventListener('close', async () => {
    const choice = dialog.returnValue;
    const isHard = hard();
    dialog.remove();
    if (choice !== 'delete') return;
    const q = isHard ? `?hard_delete=true${dependants.length ? '&cascade=true' : ''}` : '';
    try {
      await api(`/api/content/${src.source_id}${q}`, {method: 'DELETE'});
      toast(`Deleted “${src.title}”${isHard ? ' for good' : ''}`);
      go('/');
    } catch (ex) {
      toast(ex.message, 'error');
    }
  });
}

export async function sourcePage(main, id) {
  const focus = new URLSearchParams(location.search).get('chunk');
  const [src, chunks, net, made, lic, credit] = await Promise.all([
    api(`/api/content/${id}`), api(`/api/content/${id}/chunks`), api(`/api/provenance/source/${id}/citations`),
    api(`/api/provenance/source/${id}/generated-content`), api(`/api/provenance/source/${id}/licenses`),
    api(`/api/provenance/source/${id}/attribution`)]);
  fill(main, h('h1', {}, src.title || src.filename || id),
    h('div', {class: 'row'}, h('a', {class: 'button', href: `/studio?sources=${id}`}, 'Make something from it'),
      h('button', {type: 'button', class: 'danger', onclick: () => remove(src, made)}, 'Delete…')),
    h('div', {class: 'grid2'},
      h('section', {class: 'card', 'aria-labelledby': 'about-title'}, h('h2', {id: 'about-title'}, 'About'), facts(src),
        src.abstract ? [h('h3', {}, 'Abstract'), h('p', {}, src.abstract)] : null),
      h('section', {class: 'card', 'aria-labelledby': 'lic-title'}, h('h2', {id: 'lic-title'}, 'Licence'),
        h('p', {}, h('strong', {}, src.licence || 'unknown'), lic.sources[0]?.name ? ` — ${lic.sources[0].name}` : ''),
        h('ul', {}, h('li', {}, `Commercial use: ${lic.commercial_use}`), h('li', {}, `Attribution: ${lic.attribution}`),
          h('li', {}, `Share-alike: ${lic.share_alike}`), h('li', {}, `Derivatives: ${lic.derivatives}`)),
        src.licence_evidence ? h('p', {class: 'muted'}, `Evidence: ${src.licence_evidence}`) : null,
        h('h3', {}, 'How to credit it'), h('pre', {class: 'credit'}, credit.text))),
    src.sections.length ? h('section', {class: 'card', 'aria-labelledby': 'sec-title'}, h('h2', {id: 'sec-title'}, 'Sections'),
      h('ol', {class: 'sections'}, src.sections.map((s) => h('li', {}, s)))) : null,
    figures(src), h('div', {class: 'grid2'}, network(net), generated(made)), paragraphs(chunks, focus));
  const target = focus && document.getElementById(`chunk-${focus}`);
  if (target) { target.scrollIntoView({block: 'center'}); target.focus({preventScroll: true}); }
}
