// Review before audio: the script of a job that stopped for review (made with "review"), one
// editable row per line. Save stages the edits (the server checks every changed claim against
// the passages it cites and names the first line that fails); Approve narrates the script.
import {api} from './api.js';
import {fill, h, toast} from './dom.js';

function row(line, n, hosts, passages) {
  const id = `rv-${n}`;
  const speaker = h('select', {id: `${id}-speaker`, 'aria-label': `Line ${n + 1} speaker`},
    hosts.map((name) => h('option', {value: name, selected: name === line.speaker}, name)));
  const text = h('textarea', {id: `${id}-text`, rows: 2, maxlength: 2000, 'aria-label': `Line ${n + 1} text`}, line.text);
  const drop = h('input', {type: 'checkbox', id: `${id}-drop`});
  const cites = (line.citations || []).map((c) => passages.get(c)).filter(Boolean)
    .map((p) => `${p.source_title || p.source_id}${p.page ? `, p. ${p.page}` : ''}`);
  const el = h('li', {class: 'review-line'},
    h('div', {class: 'review-head'}, h('strong', {}, `${n + 1}. ${line.kind || 'content'}`), ' ', speaker,
      h('span', {class: 'field check'}, drop, h('label', {for: drop.id}, 'drop'))),
    text, cites.length ? h('small', {class: 'muted'}, `cites: ${[...new Set(cites)].join('; ')}`) : null);
  return {el, line, speaker, text, drop};
}

/** Show the script of `jobId` in `panel`; `onApproved(job)` once it is approved. */
export async function reviewPanel(panel, jobId, onApproved) {
  const script = await api(`/api/jobs/${encodeURIComponent(jobId)}/script`);
  const passages = new Map(script.passages.map((p) => [p.chunk_id, p]));
  const rows = script.edit.lines.map((ln, i) => row(ln, i, script.hosts, passages));
  const error = h('p', {class: 'error', role: 'alert'});
  const edits = () => ({lines: rows.filter((r) => !r.drop.checked).map((r) => ({
    seq: r.line.seq, speaker: r.speaker.value, kind: r.line.kind, text: r.text.value.trim(),
    citations: r.line.citations}))});
  const save = async () => {
    error.textContent = '';
    try {
      const res = await api(`/api/jobs/${encodeURIComponent(jobId)}/script`, {method: 'PUT', json: edits()});
      toast(`Saved: ${res.edited} line(s) edited, ${res.lines.length} to narrate`);
      return true;
    } catch (ex) {
      error.textContent = ex.message;
      return false;
    }
  };
  const approve = async () => {
    if (!(await save())) return;
    try {
      onApproved(await api(`/api/jobs/${encodeURIComponent(jobId)}/approve`, {method: 'POST'}));
    } catch (ex) {
      error.textContent = ex.message;
    }
  };
  fill(panel, h('section', {class: 'review', 'aria-labelledby': 'review-title'},
    h('h3', {id: 'review-title'}, 'Review the script'),
    h('p', {class: 'muted'}, 'Nothing is narrated yet. Edit a line, change its speaker or drop it; ',
      'a changed claim must still be supported by the passages it cites.'),
    h('ol', {class: 'review-lines'}, rows.map((r) => r.el)), error,
    h('p', {}, h('button', {type: 'button', class: 'quiet', onclick: save}, 'Save edits'), ' ',
      h('button', {type: 'button', onclick: approve}, 'Approve and narrate'))));
}
