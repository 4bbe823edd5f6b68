"""Chat graph: understand -> resolve_sources -> plan -> confirm -> run_export -> answer.

One LangGraph thread per conversation (checkpoint thread "chat-<thread id>", in the same
checkpointer as jobs), so "these", "it" and "again" refer to earlier turns and a question the
assistant asked (which paper? spend money?) is answered by the next turn. Questions about the
library go to `answer_question`; status, list and help to `respond`.

Jobs (imports, exports) are run by a `run_job(graph, input, owner, listener)` coroutine taken
from `config["configurable"]["run_job"]`: the CLI passes one that runs jobs in-process through
`server.runner`, the REST API one that queues them for the executor and follows their events.
Graphs never import the server; without a runner (LangGraph Studio) jobs run inline as
subgraphs. Job progress is streamed as custom events ({"type": "progress", ...}).
"""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from agents import answers, intent, llm_intent, narrator, scriptwriter, translator
from agents import requests as export_requests
from agents.context import RunContext, settings_for
from agents.importer import is_url
from agents.references import in_text, year_of
from agents.requests import default_hosts, estimate_cost
from graphs import chat_documents
from graphs.registry import graphs, state_types
from services import catalog
from storage import db, library
from storage.checkpoints import checkpointer
from storage.errors import BadInput, LibrarianError, NotFound
from storage.models import Source
from storage.settings import Settings
from tools import tts

Event = dict[str, Any]
Listener = Callable[[Event], Awaitable[None] | None]
RunJob = Callable[[str, dict[str, Any], str, Listener], Awaitable[dict[str, Any]]]
YES = re.compile(r"^\s*(?:y|yes|yeah|yep|sure|ok|okay|go|go ahead|do it|please do|confirm|"
                 r"proceed|fine|alright|sounds good)\b", re.I)
NO = re.compile(r"^\s*(?:n|no|nope|cancel|stop|don't|do not|never ?mind|abort)\b", re.I)
TOPIC_SOURCES = 3  # sources taken for a topic-only request
HELP = ("I can import papers and make podcasts, videos, reports, ebooks, flashcards, quizzes, "
        "newsletters and slide decks from your library, and answer questions about it with "
        "citations. Try: \u201cmake a 5-minute podcast from these papers\u201d (attach PDFs "
        "or give URLs), \u201cmake a short video about S2ORC\u201d, \u201cmake 20 flashcards "
        "from S2ORC\u201d, "
        "\u201cmake it again but with three hosts\u201d, \u201cwhat does "
        "S2ORC say about licensing?\u201d, \u201clist my papers\u201d, \u201cstatus\u201d.")


class ChatState(TypedDict, total=False):
    messages: Annotated[list[dict[str, Any]], operator.add]  # the conversation, both sides
    owner: str
    # this turn
    message: str
    attachments: list[str]
    request: dict[str, Any]
    sources: list[str]  # resolved library ids
    plan: dict[str, Any]
    confirmed: bool
    job: dict[str, Any]
    reply: dict[str, Any] | None
    # across turns
    context: dict[str, Any]  # format, sources, params, job_id, artifact_id, attachments
    pending: dict[str, Any] | None  # the question we asked: {"kind", "request", ...}


def turn_input(message: str, attachments: list[str] | None, owner: str) -> ChatState:
    """The input of one turn (per-turn fields reset; context and pending are kept)."""
    return {"message": message, "attachments": list(attachments or []), "owner": owner,
            "request": {}, "sources": [], "plan": {}, "confirmed": False, "job": {},
            "reply": None,
            "messages": [{"role": "user", "text": message, "attachments": list(attachments or [])}]}


def emit(event: Event) -> None:
    try:
        get_stream_writer()(event)
    except RuntimeError:  # outside a graph run
        pass


def say(text: str, **data: Any) -> ChatState:
    """The assistant's reply for this turn (streamed at once, and kept in the history)."""
    reply = {"role": "assistant", "text": text, **data}
    emit({"type": "message", **reply})
    return {"reply": reply, "messages": [reply]}


def ask_back(text: str, pending: dict[str, Any], **data: Any) -> ChatState:
    """Reply with a question; the next user turn answers it."""
    return {**say(text, question=True, **data), "pending": pending}


# --- understand ---------------------------------------------------------------------------

def request_of(data: dict[str, Any]) -> intent.Request:
    req = intent.Request(**{k: v for k, v in data.items() if k in {
        "action", "format", "sources", "refs", "from_context", "params", "question", "job_id",
        "by"}})
    req.text = data.get("text", "")
    return req


def stored(req: intent.Request) -> dict[str, Any]:
    return {**req.as_dict(), "text": req.text}


def choose(answer: str, options: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Which option an answer picks: its number ("2", "the second"), or words of its title."""
    text = intent.normalise(answer)
    ordinals = ["first", "second", "third", "fourth", "fifth", "sixth"]
    m = re.search(r"\b(\d+)\b", text)
    idx = int(m.group(1)) - 1 if m else next(
        (i for i, w in enumerate(ordinals) if re.search(rf"\b{w}\b", text)), None)
    if idx is not None and 0 <= idx < len(options):
        return options[idx]
    if re.search(r"\b(?:all|both|every)\b", text):
        return {"source_ids": [o["source_id"] for o in options]}
    hits = [o for o in options if any(w in o["title"].lower() for w in re.findall(r"\w{4,}", text))]
    return hits[0] if len(hits) == 1 else None


async def understand(state: ChatState, config: RunnableConfig) -> ChatState:
    """Parse the turn (LLM tool call when configured, else the offline parser); answer a pending
    question (a choice between sources, or yes/no to a confirmation) with it."""
    message, atts = state.get("message", ""), state.get("attachments") or []
    pending = state.get("pending")
    if pending and not atts:
        req = request_of(pending["request"])
        if pending["kind"] == "confirm":
            if YES.search(message):
                return {"request": stored(req), "confirmed": True, "pending": None,
                        "sources": pending.get("sources") or []}
            if NO.search(message):
                return {**say("OK, I won't do that."), "pending": None}
        elif pending["kind"] == "choose":
            picked = choose(message, pending["options"])
            if picked is not None:
                ref = pending["ref"]
                req.refs = [r for r in req.refs if r != ref]
                req.sources = req.sources + list(picked.get("source_ids") or [picked["source_id"]])
                return {"request": stored(req), "pending": None}
            if NO.search(message):
                return {**say("OK, never mind."), "pending": None}
    settings = settings_for(config)
    context = dict(state.get("context") or {})
    if atts:
        context = {**context, "attachments": list(atts)}
    req = await llm_intent.understand(settings, config, message, atts, context,
                                      state.get("messages") or [])
    return {"request": stored(req), "pending": None}


def after_understand(state: ChatState) -> str:
    if state.get("reply"):
        return END
    action = state["request"].get("action")
    if action == "make":
        return "plan" if state.get("confirmed") else "resolve_sources"
    return "answer_question" if action == "ask" else "respond"


# --- resolve sources ----------------------------------------------------------------------

async def run_job(config: RunnableConfig, graph: str, inp: dict[str, Any], owner: str
                  ) -> dict[str, Any]:
    """Run a job with the runner the surface supplied (else inline), streaming its progress."""
    supplied = ((config.get("configurable") or {}).get("run_job"))
    label = Path(inp.get("source", "")).name or inp.get("source") or graph

    def listener(event: Event) -> None:
        emit({**event, "graph": graph, "label": label})

    if supplied is not None:
        return dict(await supplied(graph, inp, owner, listener))
    return await run_inline(settings_for(config), graph, inp, owner, listener)


async def run_inline(settings: Settings, graph: str, inp: dict[str, Any], owner: str,
                     listener: Listener) -> dict[str, Any]:
    """No job runner given: run the graph as a subgraph, without a job row."""
    if inp.get("review"):
        return {"job_id": None, "status": "failed", "result": {},
                "error": "review before audio needs the job runner (librarian serve or the CLI)"}
    spec = graphs()[graph]
    job_id = f"chat-inline-{uuid.uuid4()}"
    cfg: RunnableConfig = {"configurable": {"thread_id": job_id, "settings": settings},
                           "recursion_limit": 200}
    try:
        out = await spec.build().compile().ainvoke(
            {**inp, "owner": owner}, cfg, context=RunContext(settings, owner, job_id))
    except LibrarianError as exc:
        return {"job_id": job_id, "status": "failed", "error": str(exc), "result": {}}
    res = listener({"job_id": job_id, "type": "status", "status": "completed"})
    if res is not None:
        await res
    return {"job_id": job_id, "status": "completed", "error": None,
            "result": dict(out.get("result") or {})}


def title_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1}


def matches(ref: str, src: Source) -> bool:
    """A name matches a source by title words, author surname ('by X') or file name."""
    ref = ref.lower().strip()
    if ref.startswith("by "):
        name = title_words(ref[3:])
        return any(name and name <= title_words(str(a)) for a in src.authors or [])
    words = title_words(ref)
    hay = title_words(src.title) | title_words(src.filename or "")
    hay |= {w for a in src.authors or [] for w in title_words(str(a))}
    if words and words <= hay:
        return True
    compact = re.sub(r"[^a-z0-9]", "", ref)
    return len(compact) >= 4 and compact in re.sub(r"[^a-z0-9]", "", src.title.lower())


def option(src: Source) -> dict[str, Any]:
    return {"source_id": src.id, "title": src.title, "authors": list(src.authors or [])[:3],
            "year": year_of(src.published)}


async def find_sources(settings: Settings, ref: str, owner: str) -> list[Source]:
    """Library sources a name refers to: by title/author/file name, else by search."""
    async with db.session(settings) as s:
        rows = await library.list_sources(s, owner, limit=10_000)
    found = [r for r in rows if matches(ref, r)]
    if found or ref.startswith("by "):
        return found
    hits = await catalog.search(settings, ref, owner=owner, limit=10)
    best = [h for h in hits if answers.supported(ref, h)]
    ids = list(dict.fromkeys(h.source_id for h in best))[:TOPIC_SOURCES]
    return [r for i in ids for r in rows if r.id == i]


async def resolve_sources(state: ChatState, config: RunnableConfig) -> ChatState:
    """Attachments and URLs are imported (ingest jobs); names resolve against the library."""
    settings = settings_for(config)
    owner = state.get("owner", "local")
    req = request_of(state["request"])
    if not req.runnable:
        return say(f"Making a {req.format} is not available yet: I can make "
                   f"{' and '.join(f + 's' for f in sorted(intent.RUNNABLE))} for now.")
    ids: list[str] = list(state.get("sources") or [])
    imported: list[str] = []
    reply = (await _given_sources(config, req, owner, ids, imported)
             or await _referenced_sources(settings, req, owner, ids))
    if reply is not None:
        return reply
    topic = req.params.get("topic")
    if not ids and topic:
        found = await find_sources(settings, str(topic), owner)
        if not found:
            return say(f"I don't find anything about \u201c{topic}\u201d in your library.")
        ids = [f.id for f in found]
        names = "; ".join(f.title for f in found)
        return ask_back(f"For \u201c{topic}\u201d I would use: {names}. Shall I go ahead?",
                        {"kind": "confirm", "request": {**stored(req), "sources": ids,
                                                        "refs": []}, "sources": ids})
    ids = list(dict.fromkeys(ids))
    if not ids:
        return say("Which sources? Attach files, give URLs, or name papers in your library.")
    if req.params.get("import_only"):
        return {**say(f"Imported {len(imported)} source(s): " + "; ".join(imported)),
                "context": {**(state.get("context") or {}), "sources": ids, "attachments": []}}
    return {"sources": ids}


async def _given_sources(config: RunnableConfig, req: intent.Request, owner: str,
                         ids: list[str], imported: list[str]) -> ChatState | None:
    """Files and URLs are imported (their titles go to `imported`), other items are source
    ids of the library; each id is appended to `ids`. A reply when one cannot be had."""
    for item in req.sources:
        if is_url(item) or Path(item).expanduser().exists():
            job = await run_job(config, "ingest", {"source": item}, owner)
            if job["status"] != "completed":
                return say(f"I could not import {Path(item).name or item}: {job.get('error')}",
                           job_id=job.get("job_id"))
            ids.append(job["result"]["source_id"])
            imported.append(job["result"].get("title") or item)
            continue
        async with db.session(settings_for(config)) as s:
            try:
                ids.append((await library.get_source(s, item, owner)).id)
            except NotFound:
                return say(f"{item} is neither a file, a URL nor a source in your library.")
    return None


async def _referenced_sources(settings: Settings, req: intent.Request, owner: str,
                              ids: list[str]) -> ChatState | None:
    """Names ("the S2ORC paper", "by Lo") are searched; their sources are appended to `ids`.
    A reply when a name finds nothing, or asks back which of several it meant."""
    for ref in req.refs:
        found = await find_sources(settings, ref, owner)
        if not found:
            return say(f"I don't find \u201c{ref}\u201d in your library. Attach the paper or "
                       "give its URL, and I'll import it.")
        if len(found) > 1 and not ref.startswith("by "):
            options = [option(f) for f in found[:6]]
            lines = "\n".join(f"{n}. {o['title']}" + (f" ({o['year']})" if o["year"] else "")
                              for n, o in enumerate(options, 1))
            return ask_back(f"Several sources match \u201c{ref}\u201d. Which one did you mean?"
                            f"\n{lines}\n(answer with a number, or \u201call\u201d)",
                            {"kind": "choose", "ref": ref, "options": options,
                             "request": {**stored(req), "sources": ids}}, options=options)
        ids += [f.id for f in found]
    return None


# --- plan and confirm ---------------------------------------------------------------------

def podcast_params(req: intent.Request, sources: list[str], settings: Settings) -> dict[str, Any]:
    """The podcast request chat understood, checked by `agents.requests.PodcastRequest`."""
    p = req.params
    voices = p.get("voices")
    if not voices and p.get("voice_provider") == "elevenlabs":
        voices = paid_voices(settings)[:p.get("hosts") or default_hosts(p.get("style") or "")]
    fields = ("minutes", "hosts", "style", "episode_format", "topic", "title", "commercial",
              "review", "language")
    return dict(export_requests.request_of("podcast", {"sources": sources, "voices": voices,
                                       **{k: p.get(k) for k in fields}}).model_dump())


def video_params(req: intent.Request, sources: list[str], settings: Settings) -> dict[str, Any]:
    """The video request chat understood ("a short", "2 minutes", "vertical"), checked by
    `agents.requests.VideoRequest` (its style sets length and aspect unless they are said)."""
    p = req.params
    voices = p.get("voices") or (paid_voices(settings)[:1]
                                 if p.get("voice_provider") == "elevenlabs" else None)
    minutes = p.get("minutes")
    return dict(export_requests.request_of("video", {
        "sources": sources, "voices": list(voices)[:1] if voices else None,
        "style": "short" if p.get("short") else None, "aspect": p.get("aspect"),
        "seconds": round(minutes * 60) if minutes else None,
        **{k: p.get(k) for k in ("topic", "title", "commercial", "review", "language")}}
    ).model_dump())


PARAMS = {"podcast": podcast_params, "video": video_params}


def paid_voices(settings: Settings) -> list[str]:
    paid = [v.id for v in tts.list_voices(settings) if v.provider == "elevenlabs"]
    if not paid:
        raise BadInput("ElevenLabs voices need LIBRARIAN_ELEVENLABS_API_KEY")
    return paid


def what(fmt: str, params: dict[str, Any]) -> str:
    """"a 3-minute podcast with 2 host(s)", "a 30-second video" (for the user)."""
    if fmt in intent.DOCUMENTS:
        return chat_documents.describe(fmt, params)
    if fmt == "video":
        return f"a {params['seconds']:g}-second {params['aspect']} video"
    return f"a {params['minutes']:g}-minute podcast with {params['hosts']} host(s)"


def paid_llm(settings: Settings) -> bool:
    """An LLM writer on a hosted API costs money; a local server (Ollama, vLLM) does not."""
    if not settings.llm_configured:
        return False
    host = re.sub(r"^https?://", "", settings.llm_base_url or "").split("/")[0].split(":")[0]
    return host not in {"localhost", "127.0.0.1", "::1", "0.0.0.0", "ollama",
                        "host.docker.internal"}


async def check_languages(settings: Settings, params: dict[str, Any], owner: str) -> None:
    """Refuse (BadInput) a language the sources are not in when no LLM can translate."""
    async with db.session(settings) as s:
        langs = {sid: (await library.get_source(s, sid, owner)).language
                 for sid in params.get("sources") or []}
    translator.settle(params.get("language"), langs, settings.llm_configured)


async def estimate(fmt: str, params: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Voices and cost from the request alone (no paid call before the user agrees: paid
    voices are priced at their nominal pace, free ones at their measured pace)."""
    req = export_requests.request_of(fmt, params)
    brief = req.brief()
    voices = narrator.choose_voices(brief.hosts, req.voices, settings, req.language)
    hosts = scriptwriter.default_hosts(brief.hosts, [v.id for v in voices], brief.style)
    free = [h for h, v in zip(hosts, voices, strict=False) if v.provider in ("piper", "kokoro")]
    pace = await narrator.seconds_per_word(free, settings) if free else {}
    est = estimate_cost(voices, hosts, pace, brief.minutes * 60)
    return {"voices": est["voices"], "tts_cost_usd": est["tts_cost_usd"],
            "paid_voices": est["paid_voices"], "voice_notes": tts.voice_notes(voices),
            "llm_writer": settings.llm_configured, "paid_llm": paid_llm(settings)}


async def plan(state: ChatState, config: RunnableConfig) -> ChatState:
    """The export's parameters, its voices and what it will cost."""
    settings = settings_for(config)
    req = request_of(state["request"])
    if req.format in intent.DOCUMENTS:
        try:
            return {"plan": chat_documents.plan_of(req, state.get("sources") or [],
                                                   settings.llm_model if paid_llm(settings)
                                                   else None)}
        except BadInput as exc:
            return say(f"I can't make that: {exc}.")
    fmt = req.format if req.format in PARAMS else "podcast"
    try:
        params = PARAMS[fmt](req, state.get("sources") or [], settings)
        await check_languages(settings, params, state["owner"])
        est = await estimate(fmt, params, settings)
    except BadInput as exc:
        return say(f"I can't make that: {exc}.")
    reasons = []
    if est["tts_cost_usd"] > 0 or est["paid_voices"]:
        reasons.append(f"the voices ({', '.join(est['paid_voices'])}) cost about "
                       f"${est['tts_cost_usd']:.2f}")
    if est["paid_llm"]:
        reasons.append(f"the script is written by {settings.llm_model}, a paid API")
    if est.get("voice_notes"):
        reasons += est["voice_notes"]
    return {"plan": {"graph": fmt, "params": params, "estimate": est, "confirm": reasons}}


async def confirm(state: ChatState, config: RunnableConfig) -> ChatState:
    """Ask before anything that costs money or departs from the request; else go on."""
    p = state["plan"]
    if not p["confirm"] or state.get("confirmed"):
        return {}
    params = p["params"]
    return ask_back(f"Before I make {what(p['graph'], params)}: " + "; ".join(p["confirm"])
                    + ". Go ahead? (yes/no)",
                    {"kind": "confirm", "request": state["request"],
                     "sources": state.get("sources") or []}, plan=p)


def after(state: ChatState, nxt: str) -> str:
    return END if state.get("reply") else nxt


# --- run and answer -----------------------------------------------------------------------

async def run_export(state: ChatState, config: RunnableConfig) -> ChatState:
    """Submit the export job and run it; its progress streams into the conversation."""
    p = state["plan"]
    params = p["params"]
    emit({"type": "message", "role": "assistant", "interim": True,
          "text": f"Making {what(p['graph'], params)} from {len(params['sources'])} "
                  "source(s)\u2026"})
    job = await run_job(config, p["graph"], p["params"], state.get("owner", "local"))
    return {"job": job}


async def sources_credit(settings: Settings, ids: list[str]) -> list[dict[str, Any]]:
    out = []
    async with db.session(settings) as s:
        for sid in ids:
            try:
                src = await library.get_source(s, sid)
            except NotFound:
                continue
            out.append({"source_id": sid, "title": src.title, "authors": list(src.authors or []),
                        "year": year_of(src.published), "cite": in_text(src)})
    return out


async def artifact_path(settings: Settings, key: str) -> str:
    from storage.objects import LocalObjects, objects

    store = objects(settings)
    return str(store.path(key)) if isinstance(store, LocalObjects) else key


async def answer(state: ChatState, config: RunnableConfig) -> ChatState:
    """The artifact: where it is, how long, how many lines, and whose work it is built on."""
    settings = settings_for(config)
    job, p = state["job"], state["plan"]
    params = p["params"]
    req = request_of(state["request"])
    context = {**(state.get("context") or {}), "format": req.format, "sources": params["sources"],
               "params": {k: v for k, v in req.params.items() if k != "import_only"},
               "job_id": job.get("job_id"), "attachments": []}
    if job["status"] == "review":
        jid = job.get("job_id")
        return {**say(f"The script is written and waits for your review (job {jid}); nothing is "
                      f"narrated yet. Read or edit it with `librarian review {jid} --edit` (or "
                      f"GET/PUT /api/jobs/{jid}/script), then approve it with `librarian review "
                      f"{jid} --approve` (POST /api/jobs/{jid}/approve).",
                      job_id=jid, status="review"), "context": context}
    if job["status"] != "completed":
        why = "was cancelled" if job["status"] == "cancelled" else f"failed: {job.get('error')}"
        noun = chat_documents.NOUNS.get(p["graph"], p["graph"])
        return {**say(f"The {noun} {why} (job {job.get('job_id')}).",
                      job_id=job.get("job_id"), status=job["status"]), "context": context}
    r = job["result"]
    credits = await sources_credit(settings, params["sources"])
    by = "\n".join(f"  - {c['title']}" + (f" \u2014 {', '.join(c['authors'][:3])}"
                                           + (" et al." if len(c["authors"]) > 3 else "")
                                           if c["authors"] else "")
                   + f" ({c['year'] or 'n.d.'})" for c in credits)
    context["artifact_id"] = r["artifact_id"]
    if p["graph"] in intent.DOCUMENTS:
        paths = {role: await artifact_path(settings, key) for role, key in r["files"].items()}
        return {**say(chat_documents.answer_text(p["graph"], r, paths, by),
                      artifact={"artifact_id": r["artifact_id"], "kind": p["graph"],
                                "paths": paths, "segments": r["segments"],
                                "attributed_segments": r["attributed_segments"],
                                "files": r["files"]},
                      job_id=job.get("job_id"), attribution=credits, status="completed"),
                "context": context}
    path = await artifact_path(settings, r["files"]["video" if p["graph"] == "video" else "audio"])
    if p["graph"] == "video":
        made = (f"{r['width']}x{r['height']}, {r['scenes']} scenes, {r['attributed_scenes']} "
                "traced to their sources")
        counts = {"scenes": r["scenes"], "attributed_scenes": r["attributed_scenes"]}
    else:
        made = (f"{params['hosts']} host(s), {r['lines']} lines, {r['attributed_lines']} with "
                "citations")
        counts = {"lines": r["lines"], "attributed_lines": r["attributed_lines"]}
    text = (f"Your {p['graph']} is ready: {path}\nDuration {r['duration_s']:.0f}s "
            f"({r['duration_s'] / 60:.1f} min), {made}.\nBuilt from:\n{by}")
    context["artifact_id"] = r["artifact_id"]
    return {**say(text, artifact={"artifact_id": r["artifact_id"], "path": path,
                                   "duration_s": r["duration_s"], **counts,
                                   "files": r["files"]},
                  job_id=job.get("job_id"), attribution=credits, status="completed"),
            "context": context}


async def answer_question(state: ChatState, config: RunnableConfig) -> ChatState:
    """Answer from retrieved chunks with [title, p. N] citations, or say it is not there."""
    settings = settings_for(config)
    req = request_of(state["request"])
    res = await catalog.ask(settings, req.question or state.get("message", ""),
                            owner=state.get("owner", "local"))
    return say(res["text"], citations=res["citations"], found=res["found"])


async def respond(state: ChatState, config: RunnableConfig) -> ChatState:
    """Status of the last job, the library's list, or help."""
    settings = settings_for(config)
    req = request_of(state["request"])
    owner = state.get("owner", "local")
    if req.action == "list":
        async with db.session(settings) as s:
            rows = await library.list_sources(s, owner, limit=200)
        if not rows:
            return say("Your library is empty: attach papers or give URLs to import them.")
        body = "\n".join(f"{n}. {r.title}" + (f" ({year_of(r.published)})"
                                              if year_of(r.published) else "")
                         for n, r in enumerate(rows, 1))
        return say(f"Your library has {len(rows)} source(s):\n{body}",
                   sources=[option(r) for r in rows])
    if req.action == "status":
        job_id = req.job_id or (state.get("context") or {}).get("job_id")
        if not job_id:
            return say("There is no job in this conversation yet.")
        from storage import jobs as jobs_db

        try:
            async with db.session(settings) as s:
                job = await jobs_db.get_job(s, job_id, owner)
        except NotFound:
            return say(f"I don't know job {job_id}.")
        extra = f", {job.stage} ({job.progress:.0%})" if job.status == "running" else ""
        err = f": {job.error}" if job.error else ""
        return say(f"Job {job.id} ({job.graph}) is {job.status}{extra}{err}.", job_id=job.id,
                   status=job.status)
    return say(HELP)


def build_graph() -> StateGraph[Any]:
    g: StateGraph[Any] = StateGraph(ChatState)
    for node in (understand, resolve_sources, plan, confirm, run_export, answer, answer_question,
                 respond):
        g.add_node(node.__name__, node)
    g.add_edge(START, "understand")
    g.add_conditional_edges("understand", after_understand,
                            ["resolve_sources", "plan", "answer_question", "respond", END])
    g.add_conditional_edges("resolve_sources", lambda s: after(s, "plan"), ["plan", END])
    g.add_conditional_edges("plan", lambda s: after(s, "confirm"), ["confirm", END])
    g.add_conditional_edges("confirm", lambda s: after(s, "run_export"), ["run_export", END])
    g.add_edge("run_export", "answer")
    g.add_edge("answer", END)
    g.add_edge("answer_question", END)
    g.add_edge("respond", END)
    return g


graph = build_graph().compile()  # for LangGraph dev server / Studio


# --- the surfaces' entry points -----------------------------------------------------------

def thread_key(thread_id: str) -> str:
    """The checkpoint thread of a conversation (kept apart from job threads)."""
    return f"chat-{thread_id}"


def chat_config(settings: Settings, thread_id: str, run_job: RunJob | None = None,
                model: Any = None) -> RunnableConfig:
    conf: dict[str, Any] = {"thread_id": thread_key(thread_id), "settings": settings}
    if run_job is not None:
        conf["run_job"] = run_job
    if model is not None:
        conf["chat_model"] = model
    return {"configurable": conf, "recursion_limit": 50}


def chat_types() -> set[type]:
    """The checkpoint allowlist of chat threads: the chat state's classes and every job
    graph's (exports run inline share the thread's checkpointer)."""
    return state_types(build_graph())


async def check_owner(saver: Any, config: RunnableConfig, owner: str) -> dict[str, Any]:
    """The thread's state; NotFound when it belongs to someone else."""
    snap = await build_graph().compile(checkpointer=saver).aget_state(config)
    values = dict(snap.values or {})
    if values and values.get("owner", "local") != owner:
        raise NotFound("no such conversation")
    return values


async def converse(settings: Settings, thread_id: str, message: str,
                   attachments: list[str] | None = None, *, owner: str = "local",
                   run_job: RunJob | None = None, model: Any = None) -> AsyncIterator[Event]:
    """Run one turn; yield its events (progress, interim messages) and finally
    {"type": "reply", ...} with the assistant's answer."""
    if not message.strip() and not attachments:
        raise BadInput("say something (or attach files)")
    config = chat_config(settings, thread_id, run_job, model)
    async with checkpointer(settings, chat_types()) as saver:
        await check_owner(saver, config, owner)
        g = build_graph().compile(checkpointer=saver)
        async for _mode, chunk in g.astream(turn_input(message, attachments, owner), config,
                                           stream_mode=["custom"]):
            if isinstance(chunk, dict) and (chunk.get("type") != "message"
                                            or chunk.get("interim")):
                yield chunk
        final = await g.aget_state(config)
    reply = dict(final.values.get("reply") or {"text": "(no reply)"})
    yield {"type": "reply", "thread_id": thread_id, **reply}


async def check_thread(settings: Settings, thread_id: str, owner: str) -> None:
    """NotFound when the conversation exists and belongs to someone else."""
    async with checkpointer(settings, chat_types()) as saver:
        await check_owner(saver, chat_config(settings, thread_id), owner)


async def history(settings: Settings, thread_id: str, *, owner: str = "local"
                  ) -> list[dict[str, Any]]:
    """The conversation's messages, oldest first (NotFound for an unknown thread)."""
    config = chat_config(settings, thread_id)
    async with checkpointer(settings, chat_types()) as saver:
        values = await check_owner(saver, config, owner)
    if not values:
        raise NotFound(f"no conversation {thread_id}")
    return list(values.get("messages") or [])
