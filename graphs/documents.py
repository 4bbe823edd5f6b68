"""Written-export graphs: resolve -> research -> compose -> ground -> render -> publish.

One graph shape for report, ebook, flashcards, quiz, newsletter and slides (the kind is bound
when the graph is built). The offline writer is extractive: every paragraph, card and question
is an exact span of a chunk; the LLM writer, when configured, is checked by the same grounding.
Rendering is deterministic, so regenerating from the recipe gives identical files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents import doc_grounding, doc_pieces, doc_writer, translator
from agents.artifact import artifact_id_for
from agents.context import RunContext, job_id, report, settings_for
from agents.doc_record import Piece, attribution_page
from agents.doc_requests import DOC_PARAMS
from agents.material import Material, gather
from agents.requests import request_of
from agents.script import Passage
from graphs import narrated
from graphs.spec import GraphSpec
from services.lineage import source_licences
from services.provenance import ArtifactRecord, record_artifact, writer_maker
from services.provenance import Piece as RecordPiece
from storage import db, library
from storage.errors import BadInput
from storage.objects import objects
from storage.settings import Settings
from tools.composition import Card, Composition, QuizQuestion
from tools.embed import MODEL_ID as EMBED_MODEL

GRAPH_VERSION = "documents/1"
STAGES = ["resolve", "research", "compose", "ground", "render", "publish"]
KINDS = list(DOC_PARAMS)


class DocState(TypedDict, total=False):
    # request (the union of every written kind's parameters; each graph reads its own)
    sources: list[str]
    owner: str
    topic: str | None
    title: str | None
    writer: str | None
    commercial: bool
    style: str
    words: int
    sections: int
    figures: int
    chapters: int
    cards: int
    questions: int
    options: int
    items: int
    library_url: str | None
    slides: int
    bullets: int
    version_of: str | None
    reason: str | None
    # produced
    source_ids: list[str]
    source_hashes: dict[str, str]
    material: dict[str, Any]
    draft: dict[str, Any]
    content: dict[str, Any]
    grounding: dict[str, Any]
    rendered: dict[str, Any]
    result: dict[str, Any]


Node = Callable[..., Awaitable[DocState]]  # every node: async (state, config) -> update


def use_llm(req: Any, settings: Settings) -> bool:
    if req.writer == "llm" and not settings.llm_configured:
        raise BadInput("writer 'llm' needs LIBRARIAN_LLM_BASE_URL and LIBRARIAN_LLM_MODEL")
    return bool(req.writer == "llm" or (req.writer is None and settings.llm_configured))


def seed_of(recipe: dict[str, Any]) -> str:
    """Ids inside the files derive from what the export is made of, not from the artifact."""
    core = {k: recipe[k] for k in ("graph", "parameters", "sources", "source_hashes")}
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()[:16]


def recipe_of(kind: str, req: Any, state: DocState, writer: dict[str, Any]) -> dict[str, Any]:
    try:
        code = version("librarian")
    except PackageNotFoundError:
        code = "source"
    params = req.model_dump(include=set(DOC_PARAMS[kind].model_fields))
    return {"graph": kind, "graph_version": GRAPH_VERSION, "code_version": code,
            "parameters": params, "sources": state["source_ids"],
            "source_hashes": state["source_hashes"],
            "models": {"embedder": EMBED_MODEL, "writer": writer.get("model") or "extractive"},
            "prompt_hashes": writer.get("prompt_hashes", {}), "seed": 7}


def nodes(kind: str) -> dict[str, Node]:
    """The six nodes of one kind's graph."""

    def req_of(state: DocState) -> Any:
        return request_of(kind, state)

    async def resolve(state: DocState, config: RunnableConfig) -> DocState:
        req = req_of(state)  # a bad request fails before any work
        ctx = RunContext(settings_for(config), state.get("owner", "local"), job_id(config))
        got = await narrated.sources_of(ctx, list(state.get("sources") or []), req.commercial)
        translator.check_written(kind, req.language, got["source_languages"])
        return {"source_ids": got["source_ids"], "source_hashes": got["source_hashes"]}

    async def research(state: DocState, config: RunnableConfig) -> DocState:
        settings = settings_for(config)
        req = req_of(state)
        if use_llm(req, settings) and not (config.get("configurable") or {}).get("chat_model"):
            from tools.llm import check_reachable

            await check_reachable(settings)  # before any work, naming the URL
        m = await gather(settings, state["source_ids"], owner=state.get("owner", "local"),
                         topic=req.topic, words=doc_writer.words_for(kind, req))
        report(1.0, f"{len(m.passages)} passages, {len(m.figures)} figures")
        return {"material": m.model_dump()}

    async def compose(state: DocState, config: RunnableConfig) -> DocState:
        model = (config.get("configurable") or {}).get("chat_model")
        return {"draft": await draft_of(kind, req_of(state), Material(**state["material"]),
                                        settings_for(config), model)}

    async def ground(state: DocState, config: RunnableConfig) -> DocState:
        settings = settings_for(config)
        m = Material(**state["material"])
        draft = state["draft"]
        chunks = await chunk_texts(settings, draft)
        passages = {p.chunk_id: p for p in m.passages}
        out, stats = ground_content(draft, passages, chunks)
        out = doc_pieces.finish(kind, req_of(state), out)
        if not doc_pieces.pieces_of(kind, out):
            raise BadInput(f"nothing in the sources supports a {kind}: no "
                           f"{'card' if kind == 'flashcards' else 'passage'} survived the "
                           "grounding check (try more or longer sources)")
        return {"content": out, "grounding": stats}

    async def render(state: DocState, config: RunnableConfig) -> DocState:
        settings = settings_for(config)
        req = req_of(state)
        folder = work_dir(settings, job_id(config))
        recipe = recipe_of(kind, req, state, state["draft"]["writer"])
        files = await doc_pieces.render(kind, req, state["content"], Material(
            **state["material"]), folder, settings, seed=seed_of(recipe))
        verdict = await source_licences(settings, state["source_ids"])
        m = Material(**state["material"])
        page = attribution_page(state["content"]["title"], kind, m.sources, verdict)
        (folder / "attribution.md").write_text(page, encoding="utf-8")
        files["attribution"] = str(folder / "attribution.md")
        pieces = doc_pieces.pieces_of(kind, state["content"])
        (folder / "provenance.json").write_text(json.dumps(
            [p.model_dump() for p in pieces], indent=1, ensure_ascii=False), encoding="utf-8")
        files["provenance"] = str(folder / "provenance.json")
        return {"rendered": {"files": files, "recipe": recipe, "licence": verdict}}

    async def publish(state: DocState, config: RunnableConfig) -> DocState:
        settings = settings_for(config)
        return {"result": await publish_export(kind, state, settings, job_id(config))}

    return {"resolve": resolve, "research": research, "compose": compose, "ground": ground,
            "render": render, "publish": publish}


async def draft_of(kind: str, req: Any, m: Material, settings: Settings,
                   model: Any = None) -> dict[str, Any]:
    """The ungrounded draft: cards or questions, else a composition (its paragraphs rewritten
    by the LLM when it writes), with the writer that made it."""
    title = req.title or doc_writer.default_title(kind, m)
    writer: dict[str, Any] = {"writer": "extractive"}
    content: dict[str, Any] = {"title": title}
    if kind == "flashcards":
        content["cards"] = [c.model_dump() for c in doc_writer.flashcards(req, m)]
    elif kind == "quiz":
        content["questions"] = [q.model_dump() for q in doc_writer.quiz(req, m)]
    else:
        doc = doc_writer.composition(kind, req, m, title)
        if use_llm(req, settings):
            from agents.doc_llm import rewrite_with_llm

            report(0.1, "rewriting the paragraphs with the LLM")
            doc, writer = await rewrite_with_llm(doc, settings, model)
        content["composition"] = doc.model_dump()
    return {**content, "writer": writer}


def work_dir(settings: Settings, job: str) -> Path:
    folder = settings.cache_dir / "exports" / job
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


async def chunk_texts(settings: Settings, draft: dict[str, Any]) -> dict[str, str]:
    """The stored text of every chunk the draft cites."""
    ids: set[str] = set()
    for c in draft.get("cards", []) + draft.get("questions", []):
        ids.add(c["cite"]["chunk_id"])
    doc = draft.get("composition")
    if doc:
        for _, b in Composition(**doc).blocks():
            ids.update(c.chunk_id for c in b.cites)
    async with db.session(settings) as s:
        return {cid: c.text for cid, c in (await library.get_chunks(s, sorted(ids))).items()}


def ground_content(draft: dict[str, Any], passages: dict[str, Passage],
                   chunks: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    out: dict[str, Any] = {"title": draft["title"]}
    if "cards" in draft:
        cards, stats = doc_grounding.ground_cards([Card(**c) for c in draft["cards"]], chunks)
        out["cards"] = [c.model_dump() for c in cards]
    elif "questions" in draft:
        qs, stats = doc_grounding.ground_quiz([QuizQuestion(**q) for q in draft["questions"]],
                                              chunks)
        out["questions"] = [q.model_dump() for q in qs]
    else:
        doc, stats = doc_grounding.ground_composition(Composition(**draft["composition"]),
                                                      passages, chunks)
        out["composition"] = doc.model_dump()
    return out, stats


async def publish_export(kind: str, state: DocState, settings: Settings,
                         job: str) -> dict[str, Any]:
    """Upload the files and record the artifact with its provenance (all or nothing)."""
    aid = artifact_id_for(job)
    store = objects(settings)
    rendered = state["rendered"]
    prefix = f"artifacts/{aid}/"
    keys: dict[str, str] = {}
    from agents.doc_render import MEDIA

    for role, path in rendered["files"].items():
        p = Path(path)
        rel = p.relative_to(settings.cache_dir / "exports" / job).as_posix()
        keys[role] = prefix + rel
        await store.put_file(keys[role], p, MEDIA.get(p.suffix, "application/octet-stream"))
    pieces = doc_pieces.pieces_of(kind, state["content"])
    writer = state["draft"]["writer"]
    title = state["content"]["title"]
    lic = rendered["licence"]
    meta = {"grounding": state["grounding"], "licence": {
        k: lic[k] for k in ("commercial_use", "attribution", "share_alike", "derivatives",
                            "licences")}}
    await record_artifact(settings, ArtifactRecord(
        id=aid, kind=kind, owner=state.get("owner", "local"), title=title, job_id=job,
        files=keys, recipe=rendered["recipe"], version_of=state.get("version_of"), meta=meta,
        pieces=[record_piece(i, p) for i, p in enumerate(pieces)],
        passages=cited_passages(Material(**state["material"])),
        models=[writer_maker(writer.get("writer"), writer.get("model"),
                             writer.get("prompt_hashes"))]))
    shutil.rmtree(settings.cache_dir / "exports" / job, ignore_errors=True)
    cited = sum(1 for p in pieces if p.cites)
    supports = [p.support or 0.0 for p in pieces]
    return {"artifact_id": aid, "kind": kind, "title": title, "files": keys,
            "segments": len(pieces), "attributed_segments": cited,
            "mean_support": round(sum(supports) / max(1, len(supports)), 4),
            "writer": writer.get("writer"), "grounding": state["grounding"],
            "licence": meta["licence"]}


def record_piece(seq: int, p: Piece) -> RecordPiece:
    """A segment for `record_artifact`: its chunks, their exact quotes, the figure shown."""
    fig = p.meta.get("figure")
    shown = None if not fig else {"id": fig["figure_id"], "source_id": fig["source_id"],
                                  "label": fig["label"], "page": fig["page"],
                                  "object_key": fig["object_key"], "caption": fig["caption"]}
    return RecordPiece(seq=seq, kind=p.kind, text=p.text, section=p.section,
                       citations=list(dict.fromkeys(c.chunk_id for c in p.cites)),
                       quote=" ".join(c.quote for c in p.cites), support=p.support,
                       figure=shown, meta={k: v for k, v in p.meta.items() if k != "figure"})


def cited_passages(m: Material) -> list[Passage]:
    """The chunks an export may cite: the researched passages and the figures' captions."""
    out = list(m.passages)
    for f in m.figures:
        cid = m.caption_chunks.get(f.figure_id)
        if cid and cid in m.caption_texts:
            out.append(Passage(chunk_id=cid, source_id=f.source_id, seq=0, page=f.page,
                               text=m.caption_texts[cid], section="caption"))
    return out


def build_graph(kind: str) -> StateGraph[Any]:
    g: StateGraph[Any] = StateGraph(DocState)
    for name, fn in nodes(kind).items():
        g.add_node(name, fn)
    g.add_edge(START, STAGES[0])
    for a, b in zip(STAGES, STAGES[1:], strict=False):
        g.add_edge(a, b)
    g.add_edge(STAGES[-1], END)
    return g


DESCRIPTIONS = {"report": "a report with cited paragraphs (Markdown, HTML, PDF)",
                "ebook": "an EPUB 3 ebook with footnote citations",
                "flashcards": "an Anki deck and CSV of cited cards",
                "quiz": "a cited multiple-choice quiz (JSON, HTML)",
                "newsletter": "an HTML e-mail digest with cited items",
                "slides": "a slide deck (PPTX, PDF) whose notes cite"}
SPECS = {k: GraphSpec(k, lambda k=k: build_graph(k), STAGES, DESCRIPTIONS[k],  # type: ignore[misc]
                      DOC_PARAMS[k]) for k in KINDS}
REPORT, EBOOK, FLASHCARDS = SPECS["report"], SPECS["ebook"], SPECS["flashcards"]
QUIZ, NEWSLETTER, SLIDES = SPECS["quiz"], SPECS["newsletter"], SPECS["slides"]
# for the LangGraph dev server / Studio (langgraph.json)
report_graph = build_graph("report").compile()
ebook_graph = build_graph("ebook").compile()
flashcards_graph = build_graph("flashcards").compile()
quiz_graph = build_graph("quiz").compile()
newsletter_graph = build_graph("newsletter").compile()
slides_graph = build_graph("slides").compile()
