// Player with provenance: the episode (or video) with its transcript; the line being spoken is
// highlighted; a line opens the paragraph it was made from, its quoted span marked, with page
// and licence. The licence verdict and the attribution text of the whole artifact are shown.
import {api, follow} from './api.js';
import {clock, fill, h, progressBar, setProgress} from './dom.js';
import {paramFields, valuesOf} from './form.js';

const norm = (s) => s.replace(/\s+/g, ' ').trim();

/** The chunk text with the quoted span in <mark> (matched across whitespace differences). */
export function marked(text, quote) {
  const t = norm(text);
  const q = quote ? norm(quote) : '';
  const at = q ? t.indexOf(q) : -1;
  if (at < 0) return [t];
  return [t.slice(0, at), h('mark', {}, t.slice(at, at + q.length)), t.slice(at + q.length)];
}

function citedPanel(panel, seg, sources) {
  const byId = Object.fromEntries(sources.map((s) => [s.source_id, s]));
  const items = seg.chunks.map((c) => {
    const src = byId[c.source_id] || {};
    if (c.missing) return h('article', {class: 'cited'}, h('p', {class: 'muted'}, 'This paragraph was removed from the library.'));
    const where = [c.page ? `page ${c.page}` : null, c.start_s !== null && c.start_s !== undefined ? `at ${clock(c.start_s)}` : null,
      (c.heading_path || []).join(' › ') || null].filter(Boolean).join(' · ');
    return h('article', {class: 'cited'},
      h('h3', {}, h('a', {href: `/sources/${c.source_id}?chunk=${encodeURIComponent(c.chunk_id)}`}, src.title || c.source_id)),
      h('p', {class: 'muted'}, where, ' · licence ', h('strong', {class: 'licence'}, src.licence || 'unknown'),
        typeof c.support === 'number' ? ` · support ${c.support.toFixed(2)}` : ''),
      h('blockquote', {class: 'para'}, marked(c.text, c.quote)),
      c.quote ? null : h('p', {class: 'muted'}, 'The line leads into this paragraph; it quotes no span of it.'));
  });
  fill(panel, h('h2', {id: 'cited-title', tabindex: -1}, `Line ${seg.seq + 1}${seg.speaker ? ` · ${seg.speaker}` : ''}`),
    h('p', {class: 'said'}, seg.text),
    items.length ? items : h('p', {class: 'muted'}, 'This line cites no paragraph (a title, greeting or transition).'));
}

function transcript(segs, attribution, onPick) {
  const cite = Object.fromEntries(attribution.segments.map((s) => [s.segment_id, s.citation]));
  const opens = segs.map((seg, i) => seg.section && seg.section !== segs[i - 1]?.section);
  return h('ol', {class: 'transcript', 'aria-label': 'Transcript'}, segs.map((seg, i) => h('li', {'data-start': seg.start_s ?? '', 'data-end': seg.end_s ?? '', 'data-seq': seg.seq, 'data-kind': seg.kind},
    h('button', {type: 'button', class: 'line', onclick: () => onPick(seg)},
      h('span', {class: 'time'}, clock(seg.start_s)),
      opens[i] ? h('span', {class: 'section'}, seg.section) : null,
      seg.speaker ? h('span', {class: 'speaker'}, seg.speaker) : null,
      h('span', {class: 'text'}, seg.text),
      cite[seg.segment_id] ? h('span', {class: 'cite'}, cite[seg.segment_id]) : null))));
}

/** Keep the line being spoken highlighted (the one whose [start, end) holds the time; between
 * two lines, the one just said). */
function followTime(media, list) {
  let current = null;
  const update = () => {
    const t = media.currentTime + 0.3; // MP3 seeking lands a little early; pauses keep the line
    const started = [...list.children].filter((x) => x.dataset.start !== '' && Number(x.dataset.start) <= t);
    const last = started[started.length - 1];
    const li = last && t < Number(last.dataset.end) + 1.5 ? last : null;
    if (li === current) return;
    current?.classList.remove('now');
    current?.removeAttribute('aria-current');
    current = li || null;
    if (current) {
      current.classList.add('now');
      current.setAttribute('aria-current', 'true');
      current.scrollIntoView({block: 'nearest'});
    }
  };
  media.addEventListener('timeupdate', update);
  media.addEventListener('seeked', update);
}

function licencePanel(lic, attribution) {
  return h('section', {class: 'card', 'aria-labelledby': 'rights-title'}, h('h2', {id: 'rights-title'}, 'Licence and attribution'),
    h('ul', {class: 'verdict'}, h('li', {}, `Commercial use: ${lic.commercial_use}`), h('li', {}, `Attribution: ${lic.attribution}`),
      h('li', {}, `Share-alike: ${lic.share_alike}`), h('li', {}, `Derivatives: ${lic.derivatives}`),
      h('li', {}, `Licences: ${lic.licences.join(', ') || 'unknown'}`)),
    h('pre', {class: 'credit', 'aria-label': 'Attribution text'}, attribution.text));
}

function resultOf(job) {
  const r = job.result || {};
  const link = r.url || r.download_url || r.download;
  return [h('strong', {}, r.manual ? 'Ready to post by hand: ' : `Published to ${r.platform || 'the platform'}: `),
    link ? h('a', {href: link, 'data-external': true, rel: 'noopener noreferrer'}, link) : null,
    r.caption ? [h('h3', {}, 'Caption'), h('pre', {class: 'caption'}, r.caption)] : null];
}

/** Publish a video: platform, the typed publish options, then the job followed live. */
async function publishPanel(id, stops) {
  const opts = await api('/api/publish/options');
  const platform = h('select', {id: 'platform', name: 'platform'}, opts.platforms.map((p) => h('option', {value: p}, p)));
  const status = h('div', {'aria-live': 'polite'});
  const error = h('p', {class: 'error', role: 'alert'});
  const form = h('form', {onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    if (!form.reportValidity()) return;
    try {
      const job = await api(`/api/publish/${platform.value}/${id}`, {method: 'POST', json: valuesOf(form, opts.parameters, 'pub')});
      const bar = progressBar(0, 'publishing');
      const msg = h('p', {class: 'muted'}, job.status);
      fill(status, bar, msg);
      stops.push(follow(job.job_id, async (ev) => {
        if (typeof ev.progress === 'number') setProgress(bar, ev.progress);
        msg.textContent = ev.message || ev.status || '';
        if (ev.status === 'completed') fill(status, resultOf(await api(`/api/jobs/${job.job_id}`)));
        if (ev.status === 'failed' || ev.status === 'cancelled') fill(status, h('p', {class: 'error'}, `${ev.status}: ${ev.error || ''}`));
      }));
    } catch (ex) {
      error.textContent = ex.message;
    }
  }}, h('div', {class: 'field'}, h('label', {for: 'platform'}, 'Platform'), platform),
  h('fieldset', {class: 'params'}, h('legend', {}, 'Options'), paramFields(opts.parameters, 'pub')),
  error, h('button', {type: 'submit'}, 'Publish'));
  return h('section', {class: 'card', 'aria-labelledby': 'pub-title'}, h('h2', {id: 'pub-title'}, 'Publish'),
    h('p', {class: 'muted'}, 'With the AI-content disclosure, the credits and the source links. YouTube and TikTok need their sign-in (librarian publish auth youtube|tiktok); Instagram is prepared for you to post by hand.'),
    form, status);
}

export async function playerPage(main, id) {
  const stops = [];
  const [art, gen, lic, attribution] = await Promise.all([api(`/api/artifacts/${id}`),
    api(`/api/provenance/artifact/${id}/genealogy`), api(`/api/provenance/artifact/${id}/licenses`),
    api(`/api/provenance/artifact/${id}/attribution`)]);
  const files = art.files || {};
  const media = files.video ? h('video', {src: files.video, controls: true, preload: 'metadata', class: 'media',
    poster: files.thumbnail, playsinline: true},
  files.captions_vtt ? h('track', {kind: 'captions', src: files.captions_vtt, srclang: 'en', label: 'Captions'}) : null)
    : files.audio ? h('audio', {src: files.audio, controls: true, preload: 'metadata', class: 'media'}) : null;
  const panel = h('section', {class: 'card cited-panel', 'aria-labelledby': 'cited-title', 'aria-live': 'polite'},
    h('h2', {id: 'cited-title'}, 'Sources of a line'), h('p', {class: 'muted'}, 'Choose a line to see the paragraph it comes from.'));
  const pick = (seg) => {
    citedPanel(panel, seg, gen.sources);
    if (media && seg.start_s !== null && seg.start_s !== undefined && Math.abs(media.currentTime - seg.start_s) > 0.5) media.currentTime = seg.start_s + 0.05;
    panel.querySelector('h2').focus({preventScroll: true});
  };
  const list = transcript(gen.segments, attribution, pick);
  if (media) followTime(media, list);
  const downloads = Object.entries(files).map(([role, href]) => h('li', {}, h('a', {href, download: true, 'data-external': true}, role)));
  fill(main, h('h1', {}, art.title),
    h('p', {class: 'muted'}, `${art.kind}${art.duration_s ? ` · ${clock(art.duration_s)}` : ''} · ${gen.segments.length} ${files.video ? 'scenes and lines' : 'lines'} · from `,
      gen.sources.map((s, i) => [i ? ', ' : '', h('a', {href: `/sources/${s.source_id}`}, s.title || s.source_id)])),
    media, h('div', {class: 'player'}, h('section', {class: 'card', 'aria-labelledby': 'tr-title'},
      h('h2', {id: 'tr-title'}, files.video ? 'Scenes' : 'Transcript'), h('div', {class: 'scroll tall'}, list)), panel),
    licencePanel(lic, attribution), files.video ? await publishPanel(id, stops) : null,
    h('section', {class: 'card', 'aria-labelledby': 'files-title'}, h('h2', {id: 'files-title'}, 'Files'), h('ul', {class: 'files'}, downloads),
      art.job_id ? h('p', {}, h('a', {href: `/jobs/${art.job_id}`}, 'How it was made (job trace)')) : null));
  return () => stops.forEach((stop) => stop());
}
