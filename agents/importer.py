"""The importer: fetch -> detect -> extract -> chunk -> embed -> store -> provenance.

Nodes are plain async functions over `IngestState`. Large bytes never sit in checkpoints: the
original file, figure images and embeddings are staged in the object store under
`staging/<job>/` and promoted by `store`, which writes the database rows in one transaction.
Ids are derived from (owner, content hash), so a resumed or repeated import writes no duplicates.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import mimetypes
import uuid
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
from langchain_core.runnables import RunnableConfig

from agents.citations import link_citations
from agents.context import job_id, report, settings_for
from agents.importers import importer_for
from agents.media import extract_media, fetch_media, media_url_kind
from storage import db, edges, library, vectors
from storage.errors import BadInput, NotFound
from storage.models import Chunk, Figure, Source
from storage.objects import objects
from tools import limits
from tools.chunking import chunk_document, embedding_text, full_text
from tools.document import Block, Document
from tools.document import Figure as DocFigure
from tools.lexical import document_vector

NAMESPACE = uuid.UUID("6b1f3c1e-8d0b-4b7e-9a55-0c2a4f6f9e10")


class IngestState(TypedDict, total=False):
    # input
    source: str  # a local path or an http(s) URL
    owner: str
    staged_key: str  # set when the server already staged an upload
    filename: str
    kind: str  # optional hint; replaced by the detected kind
    reprocess_of: str  # a source id whose stored original is extracted again
    disabled: list[str]  # importer plugins switched off (the server passes them in)
    language: str  # optional: subtitle / transcription language of media
    # produced
    url: str | None
    content_type: str | None
    content_hash: str
    source_id: str
    duplicate: bool
    document: dict[str, Any]
    chunks: list[dict[str, Any]]
    embeddings_key: str
    media: dict[str, Any]  # yt-dlp metadata of a video/audio URL (agents.media)
    transcript_key: str  # staged transcript.json of media
    result: dict[str, Any]


def source_id_for(owner: str, content_hash: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{owner}:{content_hash}"))


def is_url(text: str) -> bool:
    return "://" in text or text.startswith(("http:", "https:"))


async def fetch(state: IngestState, config: RunnableConfig) -> IngestState:
    """Get the bytes (local file, URL, staged upload or stored original) and stage them."""
    settings = settings_for(config)
    store = objects(settings)
    staged = f"staging/{job_id(config)}/original"
    src = state.get("source", "")
    out: IngestState = {"url": None, "content_type": None}
    if state.get("reprocess_of"):
        async with db.session(settings) as s:
            row = await library.get_source(s, state["reprocess_of"], state.get("owner"))
        if not row.object_key:
            raise BadInput(f"source {row.id} has no stored original to reprocess")
        content = await store.get(row.object_key)
        out["url"] = row.url
        out["filename"] = row.filename or Path(row.object_key).name
        if isinstance((row.meta or {}).get("media"), dict):
            out["media"] = row.meta["media"]  # re-transcribe with the stored metadata
    elif state.get("staged_key"):
        content = await store.get(state["staged_key"])
        staged = state["staged_key"]
    elif is_url(src) and (how := media_url_kind(src)):
        report(0.0, f"reading {src}")
        return await fetch_media(dict(state), config, src, how)  # type: ignore[return-value]
    elif is_url(src):
        from tools.fetch import fetch_url

        report(0.1, f"downloading {src}")
        got = await fetch_url(src, settings)
        content = got.content
        out["url"] = got.url
        out["content_type"] = got.content_type
        out["filename"] = got.filename or state.get("filename") or "download"
    else:
        path = Path(src).expanduser()
        if not path.exists():
            raise BadInput(f"no such file: {src}")
        if not path.is_file():
            raise BadInput(f"not a file: {src}")
        if path.stat().st_size > settings.max_download_bytes:
            raise BadInput(f"{src} is larger than {settings.max_download_bytes // 2**20} MB")
        content = await asyncio.to_thread(path.read_bytes)
        out["filename"] = state.get("filename") or path.name
    if not content:
        raise BadInput(f"empty file: {src or state.get('filename')}")
    if staged != state.get("staged_key"):
        await store.put(staged, content)
    out["staged_key"] = staged
    out["content_hash"] = hashlib.sha256(content).hexdigest()
    return out


async def detect(state: IngestState, config: RunnableConfig) -> IngestState:
    """Decide the kind from magic bytes, content type and name; spot re-imports by hash."""
    from tools.detect import detect_kind

    settings = settings_for(config)
    if state.get("media"):  # fetched with yt-dlp (maybe not downloaded: a re-import)
        kind = state["media"].get("kind") or "video"
    else:
        head = (await objects(settings).get(state["staged_key"]))[:65536]
        kind = detect_kind(head, state.get("filename"), state.get("content_type"))
    owner = state.get("owner", "local")
    sid = state.get("reprocess_of") or source_id_for(owner, state["content_hash"])
    duplicate = False
    if not state.get("reprocess_of"):
        async with db.session(settings) as s:
            existing = await library.find_by_hash(s, owner, state["content_hash"])
            if existing is not None and existing.deleted_at is None:
                duplicate = True
                sid = existing.id
    return {"kind": kind, "source_id": sid, "duplicate": duplicate}


def after_detect(state: IngestState) -> str:
    return "finish" if state.get("duplicate") else "extract"


async def extract(state: IngestState, config: RunnableConfig) -> IngestState:
    """Run the importer plugin for the kind; stage figure images; detect the licence."""
    from tools.language import apply_language
    from tools.licences import apply_stated_licence

    settings = settings_for(config)
    store = objects(settings)
    content = await store.get(state["staged_key"])
    fn = importer_for(state["kind"], set(state.get("disabled") or []))
    report(0.2, f"extracting {state['kind']}")
    if state.get("media"):
        doc = await extract_media(dict(state), content)
    else:
        with limits.applied(settings):
            doc = await asyncio.to_thread(fn, content, state.get("filename"), state.get("url"))
    with limits.applied(settings):
        limits.check_document(doc.blocks)
    if not doc.blocks or not any(b.text.strip() for b in doc.blocks):
        raise BadInput(f"no text could be extracted from {state.get('filename') or 'the input'}")
    doc.url = doc.url or state.get("url")
    apply_stated_licence(doc)
    await asyncio.to_thread(apply_language, doc)
    figures = []
    for i, fig in enumerate(doc.figures):
        item = dataclasses.asdict(dataclasses.replace(fig, image=None))
        if fig.image:
            key = f"staging/{job_id(config)}/figures/{i:03d}.png"
            await store.put(key, fig.image, "image/png")
            item["staged_key"] = key
        figures.append(item)
    out: IngestState = {}
    transcript = doc.metadata.pop("transcript", None)
    if transcript is not None:  # media: every timed segment, kept as transcript.json
        out["transcript_key"] = f"staging/{job_id(config)}/transcript.json"
        await store.put(out["transcript_key"], json.dumps(transcript).encode(),
                        "application/json")
    data = await asyncio.to_thread(dataclasses.asdict, dataclasses.replace(doc, figures=[]))
    data["figures"] = figures
    return {**out, "document": data}


def document_from(data: dict[str, Any]) -> Document:
    """Rebuild the Document kept in the state (figure images stay in the store)."""
    fields = dict(data)
    fields["blocks"] = [Block(**{**b, "bbox": tuple(b["bbox"]) if b.get("bbox") else None})
                        for b in data.get("blocks", [])]
    fields["figures"] = [DocFigure(**{k: v for k, v in f.items() if k != "staged_key"})
                         for f in data.get("figures", [])]
    return Document(**fields)


async def chunk(state: IngestState, config: RunnableConfig) -> IngestState:
    """Paragraph chunks with page, character span and heading path."""
    drafts = await asyncio.to_thread(lambda: chunk_document(document_from(state["document"])))
    if not drafts:
        raise BadInput("the document has no paragraph text to import")
    with limits.applied(settings_for(config)):
        limits.check_chunks(drafts)
    return {"chunks": [dataclasses.asdict(d) for d in drafts]}


async def embed(state: IngestState, config: RunnableConfig) -> IngestState:
    """Embed every chunk (offline MiniLM); the matrix is staged as .npy."""
    from tools.embed import embed as embed_texts

    settings = settings_for(config)
    title = state["document"].get("title", "")
    texts = [embedding_text(title, c) for c in state["chunks"]]
    report(0.1, f"embedding {len(texts)} chunks")
    matrix = await asyncio.to_thread(embed_texts, texts)
    buf = io.BytesIO()
    np.save(buf, matrix)
    key = f"staging/{job_id(config)}/embeddings.npy"
    await objects(settings).put(key, buf.getvalue())
    return {"embeddings_key": key}


def point_payload(sid: str, owner: str, doc: dict[str, Any],
                  chunk: dict[str, Any]) -> dict[str, Any]:
    """What a chunk's vector point carries: the fields search filters on."""
    return {"source_id": sid, "owner": owner, "seq": chunk["seq"], "page": chunk.get("page"),
            "kind": doc.get("kind"), "language": doc.get("language"),
            "licence": doc.get("licence")}


def chunk_id(source_id: str, seq: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{source_id}:chunk:{seq}"))


async def store(state: IngestState, config: RunnableConfig) -> IngestState:
    """Promote staged files, write vectors, then source + chunks + figures in one transaction."""
    from tools.licences import LICENCES

    settings = settings_for(config)
    obj = objects(settings)
    sid = state["source_id"]
    owner = state.get("owner", "local")
    doc = state["document"]
    reprocess = bool(state.get("reprocess_of"))
    prefix = f"sources/{sid}/"
    ext = {"pdf": ".pdf", "webpage": ".html", "docx": ".docx", "markdown": ".md",
           "text": ".txt"}.get(state["kind"], mimetypes.guess_extension(
               state.get("content_type") or "") or ".bin")
    if state["kind"] in {"audio", "video"}:
        ext = Path(state.get("filename") or "").suffix.lower() or ext
    original_key = f"{prefix}original{ext}"
    matrix = np.load(io.BytesIO(await obj.get(state["embeddings_key"])))
    chunks = state["chunks"]
    ids = [chunk_id(sid, c["seq"]) for c in chunks]
    written: list[str] = []
    try:
        if not reprocess:
            await obj.copy(state["staged_key"], original_key)
            written.append(original_key)
        await obj.put(f"{prefix}text.txt", full_text(document_from(doc)).encode(), "text/plain")
        written.append(f"{prefix}text.txt")
        if state.get("transcript_key"):
            await obj.copy(state["transcript_key"], f"{prefix}transcript.json")
            written.append(f"{prefix}transcript.json")
        figure_rows = []
        for i, fig in enumerate(doc.get("figures", [])):
            key = None
            if fig.get("staged_key"):
                key = f"{prefix}figures/{i:03d}.png"
                await obj.copy(fig["staged_key"], key)
                written.append(key)
            figure_rows.append(Figure(id=str(uuid.uuid5(NAMESPACE, f"{sid}:figure:{i}")),
                                      source_id=sid, kind=fig["kind"], label=fig["label"],
                                      caption=fig["caption"], page=fig.get("page"),
                                      bbox=list(fig["bbox"]) if fig.get("bbox") else None,
                                      object_key=key))
        if reprocess:
            await vectors.delete_source(settings, sid)
        await vectors.upsert(settings, ids, matrix.tolist(), [
            document_vector(embedding_text(doc.get("title") or "", c), doc.get("language"))
            for c in chunks],
            [point_payload(sid, owner, doc, c) for c in chunks])
        async with db.session(settings) as s:
            licence = doc.get("licence")
            if licence:
                meta = LICENCES.get(licence)
                await library.ensure_licence(s, {
                    "id": licence, "name": meta.name if meta else licence,
                    "url": meta.url if meta else None,
                    "commercial_use_allowed": meta.commercial_use_allowed if meta else None,
                    "attribution_required": meta.attribution_required if meta else None,
                    "share_alike_required": meta.share_alike_required if meta else None,
                    "derivatives_allowed": meta.derivatives_allowed if meta else None})
            row = await s.get(Source, sid)
            if row is None:
                row = Source(id=sid, owner=owner, content_hash=state["content_hash"])
                s.add(row)
            row.kind = doc["kind"]
            row.title = doc["title"] or state.get("filename") or "Untitled"
            row.authors = doc.get("authors") or []
            row.published = doc.get("published")
            row.abstract = doc.get("abstract")
            row.url = doc.get("url")
            row.site = doc.get("site")
            row.doi = doc.get("doi")
            row.arxiv_id = doc.get("arxiv_id")
            row.language = doc.get("language")
            row.pages = doc.get("pages")
            row.duration_s = doc.get("duration_s")
            row.licence_id = licence
            row.licence_evidence = doc.get("licence_evidence")
            row.references = doc.get("references") or []
            edits = dict((row.meta or {}).get("user_edits") or {})  # the owner's PATCHes
            row.meta = {k: v for k, v in (doc.get("metadata") or {}).items()
                        if isinstance(v, str | int | float | bool | list | dict | None)}
            keep_user_edits(row, edits)
            row.status = "ready"
            row.deleted_at = None
            if not reprocess:
                row.object_key = original_key
                row.filename = state.get("filename")
            await s.flush()
            await library.replace_content(s, sid, [
                Chunk(id=i, source_id=sid, seq=c["seq"], kind=c["kind"], text=c["text"],
                      page=c.get("page"), char_start=c["char_start"], char_end=c["char_end"],
                      start_s=c.get("start_s"), end_s=c.get("end_s"),
                      heading_path=c.get("heading_path") or [])
                for i, c in zip(ids, chunks, strict=True)], figure_rows)
    except BaseException:
        if not reprocess:
            await _undo(settings, sid, written)
        raise
    await obj.delete_prefix(f"staging/{job_id(config)}/")
    return {}


def keep_user_edits(row: Source, edits: dict[str, Any]) -> None:
    """Metadata the owner corrected (PATCH) wins over what extraction found, on reprocess too."""
    for field, value in edits.items():
        if field == "licence":
            row.licence_id = value
            row.licence_evidence = "set by the owner" if value else None
        elif hasattr(row, field):
            setattr(row, field, value)
    if edits:
        row.meta = {**(row.meta or {}), "user_edits": edits}


async def _undo(settings: Any, sid: str, written: list[str]) -> None:
    """Remove what a failed first import wrote outside the DB transaction."""
    async with db.session(settings) as s:
        exists = await s.get(Source, sid) is not None
    if not exists:
        await vectors.delete_source(settings, sid)
        for key in written:
            await objects(settings).delete(key)


async def provenance(state: IngestState, config: RunnableConfig) -> IngestState:
    """Record who added the source and under which licence."""
    settings = settings_for(config)
    sid = state["source_id"]
    async with db.session(settings) as s:
        row = await library.get_source(s, sid)
        await edges.add_edge(s, ("source", sid), "CREATED_BY", ("owner", row.owner),
                             {"job_id": job_id(config)})
        if row.licence_id:
            await edges.add_edge(s, ("source", sid), "HAS_LICENSE", ("licence", row.licence_id),
                                 {"evidence": (row.licence_evidence or "")[:500]})
    await link_citations(settings, sid)  # CITES edges, both directions
    return {}


async def finish(state: IngestState, config: RunnableConfig) -> IngestState:
    """Summarise the import for the job result."""
    settings = settings_for(config)
    sid = state["source_id"]
    if state.get("duplicate"):
        await objects(settings).delete_prefix(f"staging/{job_id(config)}/")
    async with db.session(settings) as s:
        try:
            row = await library.get_source(s, sid)
        except NotFound:
            raise BadInput(f"source {sid} vanished during import") from None
        counts = await library.chunk_counts(s, [sid])
    ocr = (row.meta or {}).get("ocr")  # scanned pages read by OCR: engine and page numbers
    return {"result": {"source_id": sid, "kind": row.kind, "title": row.title,
                       "pages": row.pages, "chunks": counts.get(sid, 0),
                       "licence": row.licence_id, "duplicate": bool(state.get("duplicate")),
                       **({"ocr": ocr} if ocr else {})}}
