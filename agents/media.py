"""Video and audio import: the `media` importer plugin and the ingest graph's yt-dlp steps.

URLs of YouTube and other yt-dlp sites are probed for metadata (after the SSRF checks of
`tools.fetch`), then either their subtitles (uploaded first, then automatic captions) or their
audio is staged as the source's original. Re-imports of the same video id are spotted before
anything is downloaded. Local and downloaded media are transcribed with faster-whisper.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.context import job_id, report, settings_for
from storage import db, library
from storage.errors import BadInput
from storage.objects import objects
from storage.settings import Settings
from tools import media
from tools.document import Document
from tools.transcribe import Transcript, transcribe

DOWNLOAD_TIMEOUT_S = 1800.0  # the whole media download; sockets time out after fetch_timeout_s
MAX_DURATION_S = 6 * 3600.0


def _settings() -> Settings:
    """The running job's settings (plugins are called without them)."""
    from langgraph.config import get_config

    try:
        return settings_for(get_config())
    except RuntimeError:  # outside a graph run
        return settings_for(None)


def transcribe_bytes(content: bytes, filename: str | None, settings: Settings,
                     language: str | None = None) -> tuple[Transcript, media.Streams]:
    """Probe and transcribe media bytes, reporting seconds of audio done."""
    suffix = PurePosixPath(filename or "").suffix.lower()
    suffix = suffix if suffix in media.MEDIA_EXTS else ".bin"
    name = filename or "media"

    def progress(done: float, total: float) -> None:
        report(done / total if total else 1.0, f"transcribing {done:.0f} of {total:.0f} s",
               seconds_done=round(done, 1), seconds_total=round(total, 1))

    with tempfile.TemporaryDirectory(prefix="librarian-media-") as tmp:
        path = Path(tmp) / f"media{suffix}"
        path.write_bytes(content)
        streams = media.probe_file(path, name)
        try:
            result = transcribe(path, settings=settings, language=language, on_progress=progress)
        except BadInput as exc:
            raise BadInput(str(exc).replace(path.name, name)) from None
    if not result.segments:
        raise BadInput(f"no speech found in {name}")
    return result, streams


def import_media(content: bytes, filename: str | None, url: str | None) -> Document:
    """Local audio/video: Whisper transcript in timed paragraphs, title and artist from tags."""
    settings = _settings()
    result, streams = transcribe_bytes(content, filename, settings)
    tags = streams.tags
    meta: dict[str, Any] = {
        "title": tags.get("title") or PurePosixPath(filename or "media").stem,
        "channel": tags.get("artist") or tags.get("album_artist") or tags.get("author"),
        "upload_date": tags.get("date") or tags.get("creation_time", "")[:10] or None,
        "license": tags.get("copyright") or tags.get("license"),
        "kind": "video" if streams.has_video else "audio",
        "webpage_url": url,
    }
    meta = {k: v for k, v in meta.items() if v}
    return _document(meta, result, "whisper")


def _document(meta: dict[str, Any], result: Transcript, source: str) -> Document:
    doc = media.media_document(meta, result.segments, language=result.language,
                               duration_s=result.duration_s, source=source)
    doc.metadata["transcript"] = media.transcript_json(
        result.segments, language=result.language, duration_s=result.duration_s, source=source)
    return doc


async def extract_media(state: dict[str, Any], content: bytes) -> Document:
    """The Document of a source fetched with yt-dlp: stored subtitles parsed, or audio
    transcribed; metadata from the probe."""
    meta = dict(state["media"])
    sub = meta.get("subtitles")
    name = state.get("filename") or ""
    if sub and name.endswith("." + sub["ext"]):
        segments = media.parse_subtitles(content.decode("utf-8", errors="replace"), sub["ext"])
        if not segments:
            raise BadInput(f"the subtitles of {meta.get('webpage_url')} hold no text")
        duration = float(meta.get("duration") or segments[-1].end)
        source = "automatic_captions" if sub.get("automatic") else "subtitles"
        result = Transcript(segments=segments, language=sub["language"], duration_s=duration)
        return _document(meta, result, source)
    report(0.0, "transcribing")
    result, _ = await asyncio.to_thread(transcribe_bytes, content, name, _settings(),
                                        _whisper_language(state, meta))
    return _document(meta, result, "whisper")


def _whisper_language(state: dict[str, Any], meta: dict[str, Any]) -> str | None:
    lang = state.get("language") or meta.get("language")
    return str(lang).split("-")[0] if lang else None


def media_url_kind(url: str) -> str | None:
    """youtube, playlist, direct, site or None (see tools.media.classify)."""
    return media.classify(url)


async def fetch_media(state: dict[str, Any], config: RunnableConfig, url: str,
                      how: str) -> dict[str, Any]:
    """Probe a media URL, spot a re-import, then stage its subtitles or its audio."""
    from tools.fetch import check_url

    settings = settings_for(config)
    store = objects(settings)
    if how == "playlist":
        raise BadInput(f"{url} is a playlist: import its videos one by one "
                       "(`librarian import` expands playlists, see --playlist-limit)")
    await check_url(url, settings)
    report(0.02, f"reading media information from {url}")
    info = await asyncio.to_thread(media.extract_info, url, settings)
    meta = media.media_meta(info)
    if meta.get("duration") and float(meta["duration"]) > MAX_DURATION_S:
        raise BadInput(f"{url} is {media.timestamp(float(meta['duration']))} long; the limit is "
                       f"{MAX_DURATION_S / 3600:g} hours")
    out: dict[str, Any] = {"url": meta.get("webpage_url") or url, "content_type": None,
                           "media": meta}
    if how != "direct":
        out["content_hash"] = media.content_key(meta)
        owner = state.get("owner", "local")
        async with db.session(settings) as s:
            existing = await library.find_by_hash(s, owner, out["content_hash"])
        if existing is not None and existing.deleted_at is None:
            return out  # detect marks it a duplicate: nothing is downloaded
    staged = f"staging/{job_id(config)}/original"
    stem = media.safe_stem(str(meta.get("id") or "media"))
    language = state.get("language") or meta.get("language") or "en"
    choice = media.choose_subtitles(info, str(language)) if how != "direct" else None
    if choice is not None:
        await check_url(choice.url, settings)
        report(0.05, f"downloading {'automatic captions' if choice.automatic else 'subtitles'}"
                     f" ({choice.language})")
        text = await asyncio.to_thread(media.download_subtitles, choice, settings)
        if media.parse_subtitles(text, choice.ext):
            meta["subtitles"] = {"language": choice.language, "ext": choice.ext,
                                 "automatic": choice.automatic}
            await store.put(staged, text.encode())
            out.update(staged_key=staged, filename=f"{stem}.{choice.language}.{choice.ext}")
            return out
    for stream in media.stream_urls(info):
        await check_url(stream, settings)

    def on_bytes(done: int, total: int | None) -> None:
        shown = f"{done / 2**20:.1f} of {total / 2**20:.1f} MB" if total else \
            f"{done / 2**20:.1f} MB"
        report(done / total if total else 0.0, f"downloading audio: {shown}",
               bytes_done=done, bytes_total=total)

    with tempfile.TemporaryDirectory(prefix="librarian-dl-") as tmp:
        path = await asyncio.to_thread(media.download_audio, info, Path(tmp), settings,
                                       timeout_s=DOWNLOAD_TIMEOUT_S, on_bytes=on_bytes)
        if path.stat().st_size == 0:
            raise BadInput(f"empty media file downloaded from {url}")
        await store.put_file(staged, path)
        if how == "direct":
            out["content_hash"] = await asyncio.to_thread(_sha256, path)
        out.update(staged_key=staged, filename=f"{stem}{path.suffix.lower()}")
    return out


async def expand_playlist(url: str, settings: Settings, limit: int) -> list[str]:
    """The first `limit` video URLs of a playlist URL (SSRF-checked like any fetch)."""
    from tools.fetch import check_url

    await check_url(url, settings)
    urls = await asyncio.to_thread(media.playlist_entries, url, settings, limit)
    if not urls:
        raise BadInput(f"the playlist at {url} has no videos")
    return urls


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
