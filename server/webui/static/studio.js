// Studio: pick sources, choose the export, fill its options (a form built from the export's
// typed request schema, so it holds every option with its range), see the estimate, start,
// and watch the job stage by stage over Server-Sent Events.
import {api, follow} from './api.js';
import {fill, h, progressBar, setProgress, toast} from './dom.js';
import {paramFields, valuesOf} from './form.js';
import {reviewPanel} from './review.js';

function stageList(stages) {
  return h('ol', {class: 'stages', 'aria-label': 'Stages'}, stages.map((s) => h('li', {'data-stage': s}, s)));
}

function markStage(stages, stage) {
  let passed = true;
  for (const li of stages.children) {
    const here = li.dataset.stage === stage;
    if (here) passed = false;
    li.className = here ? 'now' : (passed ? 'done' : '');
    if (here) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
  }
}

function showProgress(panel, kind, job, stops) {
  const bar = progressBar(0, `${kind.format} progress`);
  const stages = stageList(kind.stages);
  const state = h('p', {class: 'muted', 'aria-live': 'polite'}, job.status);
  const done = h('div');
  const cancel = h('button', {type: 'button', class: 'quiet', onclick: async () => {
    try { await api(`/api/jobs/${job.job_id}`, {method: 'DELETE'}); } catch (ex) { toast(ex.message, 'error'); }
  }}, 'Cancel');
  fill(panel, h('h2', {id: 'run-title'}, `Making a ${kind.format}`), bar, stages, state,
    h('p', {}, h('a', {href: `/jobs/${job.job_id}`}, 'Job details'), ' ', cancel), done);
  const onEvent = async (ev) => {
    if (typeof ev.progress === 'number') setProgress(bar, ev.progress);
    if (ev.stage) markStage(stages, ev.stage);
    state.textContent = ev.message || ev.status || '';
    if (ev.status === 'review') {
      state.textContent = 'Waiting for your review: nothing is spoken until you approve.';
      fill(done, await reviewPanel(job.job_id, () => {
        fill(done);
        stops.push(follow(job.job_id, onEvent));
      }));
    } else if (ev.status === 'completed') {
      setProgress(bar, 1);
      for (const li of stages.children) li.className = 'done';
      cancel.hidden = true;
      const id = ev.result?.artifact_id;
      fill(done, h('p', {}, h('strong', {}, 'Done. '), id ? h('a', {href: `/player/${id}`, class: 'button'}, 'Open it') : null));
    } else if (ev.status === 'failed' || ev.status === 'cancelled') {
      cancel.hidden = true;
      fill(done, h('p', {}, h('strong', {class: 'error'}, `${ev.status}: ${ev.error || ''}`)));
    }
  };
  stops.push(follow(job.job_id, onEvent));
}

function estimateText(est) {
  const cost = est.tts_cost_usd > 0 ? `about $${est.tts_cost_usd.toFixed(2)}` : 'free (offline voices)';
  const voices = est.voices.length ? `Voices: ${est.voices.join(', ')}. ` : '';
  const writer = est.paid_llm ? 'The text is written by a paid LLM API. ' : (est.llm_writer ? 'The text is written by a local LLM. ' : 'The text is taken from the sources (extractive). ');
  return `${voices}Voice cost: ${cost}. ${writer}${est.confirm.length ? `Needs your agreement: ${est.confirm.join('; ')}.` : ''}`;
}

export async function studioPage(main) {
  const stops = [];
  const [kinds, sources] = await Promise.all([api('/api/exports'), api('/api/content?limit=500')]);
  const picked = new Set((new URLSearchParams(location.search).get('sources') || '').split(',').filter(Boolean));
  const first = ['podcast', 'video']; // the narrated exports first, then the documents
  const rank = (k) => (first.includes(k.format) ? first.indexOf(k.format) : first.length);
  const usable = kinds.filter((k) => k.enabled).sort((a, b) => rank(a) - rank(b) || a.format.localeCompare(b.format));
  const fmt = h('select', {id: 'format', name: 'format'}, usable.map((k) => h('option', {value: k.format}, k.format)));
  const describe = h('p', {class: 'muted', id: 'format-help'});
  const params = h('fieldset', {class: 'params'});
  const estimate = h('p', {class: 'estimate', 'aria-live': 'polite', id: 'estimate'});
  const error = h('p', {class: 'error', role: 'alert'});
  const agree = h('input', {type: 'checkbox', id: 'agree'});
  const agreeRow = h('div', {class: 'field check', hidden: true}, agree, h('label', {for: 'agree'}, 'I agree to these costs'));
  const start = h('button', {type: 'submit', disabled: true}, 'Start');
  const run = h('section', {class: 'card', 'aria-labelledby': 'run-title', hidden: true});
  const picks = h('fieldset', {class: 'picks'}, h('legend', {}, 'Sources'),
    sources.length ? sources.map((s) => h('div', {class: 'field check'},
      h('input', {type: 'checkbox', id: `src-${s.source_id}`, name: 'source', value: s.source_id, checked: picked.has(s.source_id)}),
      h('label', {for: `src-${s.source_id}`}, s.title || s.filename || s.source_id, h('span', {class: 'muted'}, ` · ${s.kind} · ${s.licence || 'unknown licence'}`))))
      : h('p', {}, 'No sources yet: ', h('a', {href: '/'}, 'import some'), ' first.'));
  const kind = () => usable.find((k) => k.format === fmt.value);
  const body = () => ({format: fmt.value, source_ids: [...form.querySelectorAll('input[name=source]:checked')].map((c) => c.value),
    parameters: valuesOf(form, kind().parameters)});
  let timer = 0;
  let checked = null;
  let round = 0; // answers to an older request are dropped
  /** Estimate the request as it is now; true when it may start. */
  const check = async () => {
    const mine = ++round;
    start.disabled = true;
    error.textContent = '';
    const req = body();
    if (!req.source_ids.length) { estimate.textContent = 'Pick at least one source.'; return false; }
    if (!form.checkValidity()) { estimate.textContent = 'Fix the marked options first.'; return false; }
    estimate.textContent = 'Estimating…';
    try {
      const est = await api('/api/content/estimate', {method: 'POST', json: req});
      if (mine !== round) return false;
      estimate.textContent = `Estimate: ${estimateText(est)}`;
      agreeRow.hidden = !est.confirm.length;
      checked = JSON.stringify(req);
      start.disabled = false;
      return true;
    } catch (ex) {
      if (mine !== round) return false;
      estimate.textContent = '';
      error.textContent = ex.message;
      return false;
    }
  };
  const later = () => { // a changed request needs a new estimate before it can start
    if (checked !== null && JSON.stringify(body()) === checked) return; // e.g. the change on blur
    round += 1;
    start.disabled = true;
    checked = null;
    estimate.textContent = 'Estimating…';
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  };
  const showKind = () => {
    describe.textContent = kind()?.description || '';
    fill(params, h('legend', {}, `${fmt.value} options`), paramFields(kind().parameters));
    later();
  };
  const form = h('form', {class: 'card', 'aria-labelledby': 'studio-title', novalidate: false,
    oninput: (e) => e.target !== agree && later(), onchange: (e) => e.target !== agree && later(), onsubmit: async (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      const req = body();
      if (JSON.stringify(req) !== checked && !(await check())) return;
      if (!agreeRow.hidden && !agree.checked) { error.textContent = 'Tick “I agree” to start a paid run.'; agree.focus(); return; }
      try {
        const job = await api('/api/content/export', {method: 'POST', json: req});
        run.hidden = false;
        showProgress(run, kind(), job, stops);
        run.scrollIntoView({block: 'nearest'});
      } catch (ex) {
        error.textContent = ex.message;
      }
    }},
  h('h2', {id: 'studio-title'}, 'What to make'), picks,
  h('div', {class: 'field'}, h('label', {for: 'format'}, 'Export'), fmt, describe), params,
  estimate, agreeRow, error, h('div', {class: 'row'}, start));
  fmt.addEventListener('change', showKind);
  fill(main, h('h1', {}, 'Studio'), form, run);
  if (usable.length) showKind();
  return () => { clearTimeout(timer); stops.forEach((stop) => stop()); };
}
