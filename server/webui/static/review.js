// Review before audio: the draft script of a job stopped at `review`, edited line by line
// (speaker, text, drop), checked by the server as the graph will apply it, then approved.
import {api} from './api.js';
import {fill, h, toast} from './dom.js';

function lineRow(line, hosts, passages) {
  const id = `line-${line.seq}`;
  const cited = (line.citations || []).map((c) => passages[c]).filter(Boolean);
  return h('li', {class: 'review-line', 'data-seq': line.seq, 'data-kind': line.kind},
    h('div', {class: 'row'},
      h('label', {for: `${id}-speaker`}, `Line ${line.seq + 1} · ${line.kind}`),
      h('select', {id: `${id}-speaker`, name: 'speaker', 'aria-label': `Speaker of line ${line.seq + 1}`},
        hosts.map((name) => h('option', {value: name, selected: name === line.speaker}, name))),
      h('input', {type: 'checkbox', id: `${id}-drop`, name: 'drop'}), h('label', {for: `${id}-drop`}, 'drop')),
    h('textarea', {id: `${id}-text`, name: 'text', rows: 3, maxlength: 2000, required: true,
      'aria-label': `Text of line ${line.seq + 1}`}, line.text),
    cited.length ? h('details', {}, h('summary', {}, `cites ${cited.length} passage(s)`),
      cited.map((p) => h('p', {class: 'muted'}, `${p.source_title || p.source_id}${p.page ? `, p. ${p.page}` : ''}: ${p.text.slice(0, 300)}${p.text.length > 300 ? '…' : ''}`))) : null);
}

function editOf(list) {
  return {lines: [...list.children].filter((li) => !li.querySelector('[name=drop]').checked).map((li) => ({
    seq: Number(li.dataset.seq), speaker: li.querySelector('[name=speaker]').value,
    text: li.querySelector('[name=text]').value.trim()}))};
}

/** The review editor of a job waiting for review; onApproved(job) once it is queued again. */
export async function reviewPanel(jobId, onApproved) {
  const draft = await api(`/api/jobs/${jobId}/script`);
  const passages = Object.fromEntries(draft.passages.map((p) => [p.chunk_id, p]));
  const list = h('ol', {class: 'review', 'aria-label': 'Script'}, draft.lines.map((ln) => lineRow(ln, draft.hosts, passages)));
  const error = h('p', {class: 'error', role: 'alert'});
  const save = async () => {
    error.textContent = '';
    const res = await api(`/api/jobs/${jobId}/script`, {method: 'PUT', json: editOf(list)});
    toast(`Edits checked and kept: ${res.edited} line(s) changed`);
    return res;
  };
  const guard = (fn) => async () => {
    try { await fn(); } catch (ex) { error.textContent = ex.message; }
  };
  return h('section', {class: 'card', 'aria-labelledby': 'review-title'},
    h('h2', {id: 'review-title'}, 'Review the script before audio'),
    h('p', {class: 'muted'}, 'Change what a line says or who says it, or drop it. A changed claim must still be supported by the passages it cites; the server checks it when you save.'),
    list, error,
    h('div', {class: 'row'}, h('button', {type: 'button', class: 'quiet', onclick: guard(save)}, 'Save edits'),
      h('button', {type: 'button', onclick: guard(async () => {
        await save();
        onApproved(await api(`/api/jobs/${jobId}/approve`, {method: 'POST'}));
      })}, 'Approve and narrate')));
}
