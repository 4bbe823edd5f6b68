// Jobs: the owner's jobs with status, stage, progress and attempts, updated live; one job's
// node-by-node trace; retry, resume and cancel.
import {api, follow, SETTLED, TERMINAL} from './api.js';
import {fill, h, percent, progressBar, setProgress, toast, when} from './dom.js';
import {reviewPanel} from './review.js';

const ACTIONS = {
  retry: {label: 'Retry', ok: (j) => j.status === 'failed' || j.status === 'cancelled',
    call: (id) => api(`/api/jobs/${id}/retry`, {method: 'POST', json: {manual: true}})},
  resume: {label: 'Resume', ok: (j) => j.status === 'failed' || j.status === 'cancelled',
    call: (id) => api(`/api/jobs/${id}/resume`, {method: 'POST'})},
  cancel: {label: 'Cancel', ok: (j) => !TERMINAL.has(j.status),
    call: (id) => api(`/api/jobs/${id}`, {method: 'DELETE'})},
};

function buttons(job, after) {
  return Object.entries(ACTIONS).filter(([, a]) => a.ok(job)).map(([name, a]) => h('button', {type: 'button',
    class: name === 'cancel' ? 'danger small' : 'small', 'aria-label': `${a.label} job ${job.job_id.slice(0, 8)}`,
    onclick: async () => {
      try { await a.call(job.job_id); toast(`${a.label}: job ${job.job_id.slice(0, 8)}`); after(); } catch (ex) { toast(ex.message, 'error'); }
    }}, a.label));
}

function row(job, after) {
  const bar = progressBar(job.progress, `progress of job ${job.job_id.slice(0, 8)}`);
  return h('tr', {'data-job': job.job_id},
    h('td', {}, h('a', {href: `/jobs/${job.job_id}`}, job.job_id.slice(0, 8))), h('td', {}, job.graph),
    h('td', {}, h('span', {class: `status s-${job.status}`}, job.status)), h('td', {class: 'stage'}, job.stage || ''),
    h('td', {}, bar, h('span', {class: 'sr-only'}, percent(job.progress))), h('td', {}, job.attempts),
    h('td', {}, when(job.created_at)), h('td', {}, h('div', {class: 'actions'}, buttons(job, after),
      job.status === 'review' ? h('a', {class: 'button small', href: `/jobs/${job.job_id}`}, 'Review') : null)));
}

export async function jobsPage(main) {
  const tbody = h('tbody');
  const streams = new Map();
  const filter = h('select', {id: 'status-filter'}, ['', 'pending', 'queued', 'running', 'retrying', 'review', 'completed', 'failed', 'cancelled']
    .map((s) => h('option', {value: s}, s || 'all')));
  let timer = 0;
  let shown = '';
  const load = async () => {
    clearTimeout(timer);
    const jobs = await api(`/api/jobs?limit=100${filter.value ? `&status=${filter.value}` : ''}`);
    const now = JSON.stringify(jobs.map((j) => [j.job_id, j.status, j.stage, j.attempts]));
    if (now !== shown) fill(tbody, jobs.map((j) => row(j, load))); // unchanged: keep focus where it is
    shown = now;
    for (const j of jobs) {
      if (SETTLED.has(j.status) || streams.has(j.job_id)) continue;
      streams.set(j.job_id, follow(j.job_id, (ev) => {
        const tr = tbody.querySelector(`tr[data-job="${ev.job_id || j.job_id}"]`);
        if (tr && typeof ev.progress === 'number') setProgress(tr.querySelector('.bar'), ev.progress);
        if (tr && ev.stage) tr.querySelector('.stage').textContent = ev.stage;
        if (tr && ev.status) fill(tr.querySelector('.status'), ev.status);
        if (SETTLED.has(ev.status)) { streams.get(j.job_id)?.(); streams.delete(j.job_id); load(); }
      }));
    }
    timer = setTimeout(load, 5000); // new jobs from other tabs or the CLI
  };
  filter.addEventListener('change', load);
  fill(main, h('h1', {}, 'Jobs'), h('div', {class: 'row'}, h('label', {for: 'status-filter'}, 'Status'), filter),
    h('div', {class: 'card scroll'}, h('table', {class: 'jobs'}, h('thead', {}, h('tr', {},
      ['Job', 'Kind', 'Status', 'Stage', 'Progress', 'Attempts', 'Created', 'Actions'].map((t) => h('th', {scope: 'col'}, t)))), tbody)));
  await load();
  return () => { clearTimeout(timer); streams.forEach((stop) => stop()); };
}

function traceTable(trace) {
  if (!trace.length) return h('p', {class: 'muted'}, 'No trace kept for this job (its checkpoints were cleared, or it has not run yet).');
  return h('div', {class: 'scroll'}, h('table', {class: 'trace'}, h('thead', {}, h('tr', {}, ['Step', 'Node', 'Started', 'Wrote', 'Error']
    .map((t) => h('th', {scope: 'col'}, t)))), h('tbody', {}, trace.map((t) => h('tr', {},
    h('td', {}, t.step), h('td', {}, t.node), h('td', {}, when(t.started_at)),
    h('td', {}, Object.entries(t.wrote || {}).map(([k, v]) => h('div', {}, h('code', {}, k), `: ${typeof v === 'string' ? v : JSON.stringify(v)}`))),
    h('td', {class: t.error ? 'error' : ''}, t.error || ''))))));
}

export async function jobPage(main, id) {
  let stop = null;
  const draw = async () => {
    const [job, trace] = await Promise.all([api(`/api/jobs/${id}`), api(`/api/jobs/${id}/trace`)]);
    const bar = progressBar(job.progress, 'job progress');
    const status = h('span', {class: `status s-${job.status}`}, job.status);
    const stage = h('span', {}, job.stage || '');
    const artifact = job.result?.artifact_id;
    fill(main, h('h1', {}, `Job ${id.slice(0, 8)} · ${job.graph}`),
      h('section', {class: 'card'}, h('dl', {class: 'facts'},
        h('dt', {}, 'Status'), h('dd', {}, status), h('dt', {}, 'Stage'), h('dd', {}, stage),
        h('dt', {}, 'Progress'), h('dd', {}, bar), h('dt', {}, 'Attempts'), h('dd', {}, job.attempts),
        h('dt', {}, 'Message'), h('dd', {}, job.message || ''), job.error ? [h('dt', {}, 'Error'), h('dd', {class: 'error'}, job.error)] : null,
        h('dt', {}, 'Created'), h('dd', {}, when(job.created_at)), h('dt', {}, 'Finished'), h('dd', {}, when(job.finished_at))),
      h('div', {class: 'row'}, buttons(job, draw), artifact ? h('a', {class: 'button', href: `/player/${artifact}`}, 'Open the result') : null,
        job.result?.source_id ? h('a', {class: 'button', href: `/sources/${job.result.source_id}`}, 'Open the source') : null)),
      job.status === 'review' ? await reviewPanel(id, () => draw()) : null,
      h('section', {class: 'card'}, h('h2', {}, 'Trace, node by node'), traceTable(trace)),
      h('section', {class: 'card'}, h('h2', {}, 'Input'), h('pre', {}, JSON.stringify(job.input, null, 2))));
    if (!SETTLED.has(job.status) && !stop) {
      stop = follow(id, (ev) => {
        if (typeof ev.progress === 'number') setProgress(bar, ev.progress);
        if (ev.stage) stage.textContent = ev.stage;
        if (ev.status) status.textContent = ev.status;
        if (SETTLED.has(ev.status)) { stop?.(); stop = null; draw(); }
      });
    }
  };
  await draw();
  return () => stop?.();
}
