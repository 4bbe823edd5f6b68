"""Video and audio sources: URL classification, yt-dlp metadata, subtitles, audio download.

yt-dlp is imported lazily (it takes seconds). Every blocking function here runs in a worker
thread; the caller vets URLs with `tools.fetch.check_url` before anything reaches yt-dlp (see
`agents.media`). Transcript segments become paragraph-sized `transcript` blocks that keep the
exact start and end of the speech they hold.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from storage.errors import BadInput, Retryable
from storage.settings import Settings
from tools.document import Block, Document
from tools.transcribe import Segment

MEDIA_EXTS = {".mp3", ".m4a", ".wav", ".flac", ".ogg", ".oga", ".opus", ".aac", ".weba", ".mka",
              ".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".ogv", ".mpeg", ".mpg", ".3gp"}
_NOT_MEDIA_EXTS = {".pdf", ".html", ".htm", ".xhtml", ".docx", ".md", ".markdown", ".txt",
                   ".xml", ".json", ".csv", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".zip"}
_YT_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com",
             "youtube-nocookie.com", "www.youtube-nocookie.com"}
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YT_PATH = re.compile(r"^/(?:shorts|embed|live|v|e)/([A-Za-z0-9_-]{11})(?:[/?#]|$)")
SUBTITLE_EXTS = ("json3", "vtt", "srt")  # preference order
# YouTube's only Creative Commons option is CC BY 3.0 (its upload licence picker links to it)
_YOUTUBE_CC = "creative commons attribution license (reuse allowed)"

# --- URLs -----------------------------------------------------------------------------------


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def youtube_id(url: str) -> str | None:
    """The 11-character video id of a YouTube watch / youtu.be / shorts / embed URL."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host in {"youtu.be", "www.youtu.be"}:
        vid = parts.path.strip("/").split("/")[0]
        return vid if _YT_ID.match(vid) else None
    if host not in _YT_HOSTS:
        return None
    if parts.path in ("/watch", "/watch/"):
        vid = (parse_qs(parts.query).get("v") or [""])[0]
        return vid if _YT_ID.match(vid) else None
    m = _YT_PATH.match(parts.path)
    return m.group(1) if m else None


def youtube_playlist_id(url: str) -> str | None:
    """The playlist id of a YouTube `/playlist?list=` URL (a watch URL with &list= is a video)."""
    parts = urlsplit(url.strip())
    if (parts.hostname or "").lower() not in _YT_HOSTS or parts.path.rstrip("/") != "/playlist":
        return None
    pid = (parse_qs(parts.query).get("list") or [""])[0]
    return pid if re.fullmatch(r"[A-Za-z0-9_-]{2,64}", pid) else None


def safe_stem(text: str) -> str:
    """A file-name stem made of safe characters."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80].strip("._") or "media"


def canonical_youtube_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


_EXTRACTORS: list[Any] | None = None


def _site_extractor(url: str) -> str | None:
    """The name of a site-specific yt-dlp extractor that claims the URL, if any."""
    global _EXTRACTORS
    if _EXTRACTORS is None:
        from yt_dlp.extractor import gen_extractor_classes

        _EXTRACTORS = [c for c in gen_extractor_classes() if c.ie_key() != "Generic"]
    for cls in _EXTRACTORS:
        if cls.suitable(url):
            return str(cls.ie_key())
    return None


def classify(url: str) -> str | None:
    """How a URL is imported: youtube, playlist, direct (a media file), site (another yt-dlp
    site) or None (not media: fetched as a document)."""
    if youtube_id(url):
        return "youtube"
    if youtube_playlist_id(url):
        return "playlist"
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    ext = PurePosixPath(parts.path).suffix.lower()
    if ext in MEDIA_EXTS:
        return "direct"
    if ext in _NOT_MEDIA_EXTS:
        return None
    if _host(url) in _YT_HOSTS | {"youtu.be"}:
        return None  # channel pages, search results...: not one video
    return "site" if _site_extractor(url) else None


def media_link(url: str | None, start_s: float | None) -> str | None:
    """A link that starts playback at `start_s`: `t=123s` for YouTube, `#t=123` otherwise."""
    if not url or start_s is None:
        return None
    t = max(0, int(start_s))
    parts = urlsplit(url)
    if youtube_id(url):
        query = [(k, v) for k, vs in parse_qs(parts.query, keep_blank_values=True).items()
                 for v in vs if k != "t"]
        query.append(("t", f"{t}s"))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    if parts.scheme not in ("http", "https"):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, f"t={t}"))


def timestamp(seconds: float) -> str:
    """12:31 or 1:02:03."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


# --- metadata -------------------------------------------------------------------------------

_META_KEYS = ("id", "title", "channel", "uploader", "creator", "channel_url", "upload_date",
              "release_date", "duration", "license", "description", "thumbnail", "language",
              "webpage_url", "extractor_key", "ext", "vcodec")


def media_meta(info: dict[str, Any]) -> dict[str, Any]:
    """The JSON-small part of a yt-dlp info dict this library keeps (no formats, no URLs of
    streams)."""
    meta = {k: info.get(k) for k in _META_KEYS if info.get(k) is not None}
    if not meta.get("thumbnail") and info.get("thumbnails"):
        best = max(info["thumbnails"], key=lambda t: (t.get("preference") or 0,
                                                      (t.get("width") or 0)))
        meta["thumbnail"] = best.get("url")
    meta["chapters"] = [{"start_time": float(c.get("start_time") or 0.0),
                         "end_time": float(c["end_time"]) if c.get("end_time") else None,
                         "title": str(c.get("title") or "").strip()}
                        for c in info.get("chapters") or [] if c.get("title")]
    meta["kind"] = media_kind(info)
    return meta


def media_kind(info: dict[str, Any]) -> str:
    """audio or video, from the extractor's format information."""
    if info.get("extractor_key") == "Youtube":
        return "video"
    vcodec = info.get("vcodec")
    if vcodec == "none":
        return "audio"
    ext = "." + str(info.get("ext") or "")
    if vcodec is None and ext in {".mp3", ".m4a", ".wav", ".flac", ".ogg", ".oga", ".opus",
                                  ".aac", ".weba", ".mka"}:
        return "audio"
    return "video"


def content_key(meta: dict[str, Any]) -> str:
    """The identity of a site video, e.g. `youtube:dQw4w9WgXcQ` (re-imports match on it)."""
    key = f"{str(meta.get('extractor_key') or 'media').lower()}:{meta.get('id')}"
    return key if len(key) <= 64 else hashlib.sha256(key.encode()).hexdigest()


def _date(value: str | None) -> str | None:
    if value and re.fullmatch(r"\d{8}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value or None


def licence_for(text: str | None) -> tuple[str, str] | None:
    """The licence id stated by a site's licence field, with the text as evidence."""
    from tools.licences import detect_licence

    if not text:
        return None
    if text.strip().lower() == _YOUTUBE_CC:
        return "CC-BY-3.0", text
    return detect_licence(text)


# --- subtitles ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubtitleChoice:
    """One subtitle track: language, format, where to get it, uploaded or automatic."""

    language: str
    ext: str
    url: str
    automatic: bool


def _lang_match(key: str, want: str) -> int:
    """2 exact, 1 same base language (en-GB, en-orig), 0 none."""
    key, want = key.lower(), want.lower()
    if key == want:
        return 2
    return 1 if key.split("-")[0] == want.split("-")[0] else 0


def choose_subtitles(info: dict[str, Any], language: str) -> SubtitleChoice | None:
    """Uploaded subtitles first, then automatic captions, in `language`; best format first."""
    for automatic, field_name in ((False, "subtitles"), (True, "automatic_captions")):
        tracks = info.get(field_name) or {}
        ranked = sorted(((_lang_match(k, language), k) for k in tracks
                         if k != "live_chat" and _lang_match(k, language)),
                        key=lambda x: (-x[0], x[1].endswith("-orig") is False, x[1]))
        for _, lang in ranked:
            by_ext = {t.get("ext"): t for t in tracks[lang] if t.get("url")}
            for ext in SUBTITLE_EXTS:
                if ext in by_ext:
                    return SubtitleChoice(lang, ext, str(by_ext[ext]["url"]), automatic)
    return None


_TAG = re.compile(r"<[^>]+>")
_STAMP = r"((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
_CUE_TIME = re.compile(_STAMP + r"\s*-->\s*" + _STAMP)


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    total = 0.0
    for p in parts:
        total = total * 60 + float(p)
    return total


def parse_subtitles(text: str, ext: str) -> list[Segment]:
    """Timed segments from VTT, SRT or YouTube json3 subtitles; rolling duplicates dropped."""
    if ext == "json3":
        return _parse_json3(text)
    if ext not in ("vtt", "srt"):
        raise BadInput(f"unsupported subtitle format: {ext}")
    segments: list[Segment] = []
    last_line = ""
    for cue in re.split(r"\r?\n\s*\r?\n", text.replace("\ufeff", "")):
        lines = cue.strip().splitlines()
        idx = next((i for i, ln in enumerate(lines) if _CUE_TIME.search(ln)), None)
        if idx is None:
            continue
        m = _CUE_TIME.search(lines[idx])
        assert m is not None
        start, end = _seconds(m.group(1)), _seconds(m.group(2))
        fresh = []
        for raw in lines[idx + 1:]:
            line = html.unescape(_TAG.sub("", raw)).strip()
            if not line or line == last_line:
                continue
            fresh.append(line)
            last_line = line
        if fresh:
            segments.append(Segment(start, max(end, start), " ".join(fresh)))
    return segments


def _parse_json3(text: str) -> list[Segment]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"malformed json3 subtitles: {exc}") from None
    segments: list[Segment] = []
    for ev in data.get("events") or []:
        if "segs" not in ev or ev.get("aAppend"):
            continue
        words = "".join(s.get("utf8", "") for s in ev["segs"]).replace("\n", " ").strip()
        if not words:
            continue
        start = ev.get("tStartMs", 0) / 1000
        end = start + ev.get("dDurationMs", 0) / 1000
        segments.append(Segment(start, end, re.sub(r"\s+", " ", words)))
    return segments


# --- transcript -> blocks -------------------------------------------------------------------


def transcript_blocks(segments: list[Segment], chapters: list[dict[str, Any]] | None = None, *,
                      min_s: float = 10.0, max_s: float = 30.0) -> list[Block]:
    """Sentence groups (10-30 s, cut at sentence ends and chapter starts), each with the start
    and end of its first and last sentence, so a search hit jumps to the sentence."""
    chapters = sorted(chapters or [], key=lambda c: c["start_time"])
    blocks: list[Block] = []
    cur: list[Segment] = []
    cur_chapter: str | None = None

    def chapter_at(t: float) -> str | None:
        title = None
        for ch in chapters:
            if ch["start_time"] <= t + 0.5:
                title = ch["title"]
        return title

    def flush() -> None:
        if cur:
            blocks.append(Block(text=" ".join(s.text for s in cur), kind="transcript",
                                heading_path=[cur_chapter] if cur_chapter else [],
                                start_s=round(cur[0].start, 3),
                                end_s=round(max(s.end for s in cur), 3)))
            cur.clear()

    for seg in sorted(segments, key=lambda s: s.start):
        chapter = chapter_at(seg.start)
        if chapter != cur_chapter:
            flush()
            cur_chapter = chapter
            if chapter:
                blocks.append(Block(text=chapter, kind="heading", level=1,
                                    start_s=round(seg.start, 3), end_s=round(seg.start, 3)))
        if cur and seg.end - cur[0].start > max_s:
            flush()
        cur.append(seg)
        if seg.end - cur[0].start >= min_s and seg.text.rstrip().endswith((".", "!", "?")):
            flush()
    flush()
    return blocks


def media_document(meta: dict[str, Any], segments: list[Segment], *, language: str | None,
                   duration_s: float | None, source: str) -> Document:
    """A Document for a video/audio: metadata fields plus the timed transcript blocks."""
    found = licence_for(meta.get("license"))
    author = meta.get("channel") or meta.get("uploader") or meta.get("creator")
    return Document(
        kind=meta.get("kind") or "video",
        title=str(meta.get("title") or meta.get("id") or "Untitled"),
        blocks=transcript_blocks(segments, meta.get("chapters")),
        authors=[str(author)] if author else [],
        published=_date(meta.get("upload_date") or meta.get("release_date")),
        abstract=(meta.get("description") or None),
        licence=found[0] if found else None,
        licence_evidence=found[1] if found else None,
        url=meta.get("webpage_url"),
        site=meta.get("extractor_key"),
        language=language,
        duration_s=float(meta["duration"]) if meta.get("duration") else duration_s,
        metadata={"media": meta, "transcript_source": source,
                  "thumbnail": meta.get("thumbnail"), "chapters": meta.get("chapters") or [],
                  "video_id": meta.get("id")},
    )


def transcript_json(segments: list[Segment], *, language: str | None, duration_s: float | None,
                    source: str) -> dict[str, Any]:
    """What `transcript.json` holds: every segment with its exact times."""
    return {"source": source, "language": language, "duration_s": duration_s,
            "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in segments]}


# --- local files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Streams:
    """What a media file holds."""

    has_audio: bool
    has_video: bool
    duration_s: float | None
    tags: dict[str, str]


def probe_file(path: Path, name: str | None = None) -> Streams:
    """Open a media file with PyAV; corrupt files and files without sound become BadInput."""
    import av

    name = name or path.name
    try:
        with av.open(str(path)) as container:
            audio = list(container.streams.audio)
            video = [s for s in container.streams.video
                     if not s.disposition & getattr(av.stream.Disposition, "attached_pic", 0)]
            duration = container.duration / 1_000_000 if container.duration else None
            tags = {str(k).lower(): str(v) for k, v in (container.metadata or {}).items()}
    except Exception as exc:  # PyAV raises many types (InvalidDataError, OSError...)
        raise BadInput(f"corrupt or unreadable media file {name}: "
                       f"{type(exc).__name__}") from None
    if not audio:
        raise BadInput(f"no audio stream in {name}: nothing to transcribe")
    return Streams(bool(audio), bool(video), duration, tags)


# --- yt-dlp ---------------------------------------------------------------------------------


class _Quiet:
    """yt-dlp logger that keeps the last error line for messages."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        pass

    def error(self, msg: str) -> None:
        self.errors.append(msg)


class _Abort(Exception):
    """Raised from a progress hook to stop a download (too large, too slow)."""


def ydl_options(settings: Settings, **extra: Any) -> dict[str, Any]:
    """yt-dlp options: quiet, no proxies from the environment, no cache, bounded waits."""
    opts: dict[str, Any] = {
        "quiet": True, "no_warnings": True, "noprogress": True, "logger": _Quiet(),
        "socket_timeout": settings.fetch_timeout_s, "noplaylist": True, "proxy": "",
        "cachedir": False, "retries": 1, "fragment_retries": 1, "extractor_retries": 1,
        "format": "bestaudio/best", "max_filesize": settings.max_download_bytes,
        "restrictfilenames": True, "overwrites": True, "color": {"stderr": "no_color"},
    }
    try:
        import imageio_ffmpeg

        opts["ffmpeg_location"] = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        pass
    opts.update(extra)
    return opts


_PRIVATE = re.compile(r"private video|sign in to confirm your age|members-only|"
                      r"requires payment|login required|join this channel", re.I)
_REMOVED = re.compile(r"video unavailable|has been removed|no longer available|does not exist|"
                      r"account .*terminated|video is not available|deleted", re.I)
_GEO = re.compile(r"not available (?:in|from) your (?:country|location)|geo.?restrict", re.I)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 12:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        info = getattr(e, "exc_info", None)
        todo += [getattr(e, "cause", None), e.__cause__, e.__context__,
                 info[1] if isinstance(info, tuple) and len(info) > 1 else None]
    return seen


def map_error(exc: BaseException, url: str) -> Exception:
    """A yt-dlp failure as BadInput (permanent, cause named) or Retryable (network)."""
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, BadInput | Retryable):
            return e
    msg = re.sub(r"^ERROR:\s*", "", str(exc)).strip()
    return (_refusal(chain, url, msg) or _network_error(chain, url, msg)
            or BadInput(f"not a media URL: no video or audio found at {url}"
                        if "unsupported url" in msg.lower()
                        else f"cannot import media from {url}: {msg}"))


def _refusal(chain: list[BaseException], url: str, msg: str) -> BadInput | None:
    """The site's own refusals: unsupported, geo-blocked, private or removed media."""
    from yt_dlp.utils import GeoRestrictedError, UnsupportedError

    for e in chain:
        if isinstance(e, UnsupportedError):
            return BadInput(f"not a media URL: no video or audio found at {url}")
        if isinstance(e, GeoRestrictedError) or _GEO.search(str(e)):
            return BadInput(f"geo-blocked: the media at {url} is not available from this "
                            f"location ({msg})")
    if _PRIVATE.search(msg):
        return BadInput(f"private or restricted media at {url}: {msg}")
    if _REMOVED.search(msg):
        return BadInput(f"removed or unavailable media at {url}: {msg}")
    return None


def _network_error(chain: list[BaseException], url: str, msg: str) -> Exception | None:
    """HTTP statuses (429 and 5xx retryable, others permanent) and transport failures."""
    from yt_dlp.networking.exceptions import HTTPError, TransportError

    for e in chain:
        if isinstance(e, HTTPError):
            if e.status == 429 or e.status >= 500:
                return Retryable(f"HTTP {e.status} from {url}; try again later")
            return BadInput(f"HTTP {e.status} ({e.reason}) for {url}")
        if isinstance(e, TransportError | TimeoutError | ConnectionError | socket.timeout):
            return Retryable(f"network error fetching {url}: {msg}")
    return None


def extract_info(url: str, settings: Settings, **extra: Any) -> dict[str, Any]:
    """yt-dlp's metadata for one video (formats selected, nothing downloaded)."""
    import yt_dlp

    try:
        with yt_dlp.YoutubeDL(ydl_options(settings, **extra)) as ydl:
            info = ydl.extract_info(url, download=False)
    except Exception as exc:
        raise map_error(exc, url) from None
    if not isinstance(info, dict):
        raise BadInput(f"not a media URL: no video or audio found at {url}")
    if info.get("_type") == "playlist":
        raise BadInput(f"{url} is a playlist; import its entries one by one")
    if info.get("is_live") or info.get("live_status") in {"is_live", "is_upcoming"}:
        raise BadInput(f"{url} is a live or upcoming stream; import it once it has ended")
    return dict(info)


def playlist_entries(url: str, settings: Settings, limit: int) -> list[str]:
    """The first `limit` video URLs of a playlist (flat: one request, no per-video pages)."""
    import yt_dlp

    try:
        with yt_dlp.YoutubeDL(ydl_options(settings, extract_flat="in_playlist",
                                          noplaylist=False, playlistend=limit)) as ydl:
            info = ydl.extract_info(url, download=False)
    except Exception as exc:
        raise map_error(exc, url) from None
    return playlist_urls(info or {}, limit)


def playlist_urls(info: dict[str, Any], limit: int) -> list[str]:
    """Video URLs of a flat playlist info dict, at most `limit`."""
    urls: list[str] = []
    for entry in info.get("entries") or []:
        if not entry:
            continue
        if entry.get("ie_key") == "Youtube" or (entry.get("id") and _YT_ID.match(entry["id"])
                                                and "youtube" in str(entry.get("url", ""))):
            urls.append(canonical_youtube_url(entry["id"]))
        elif entry.get("url") or entry.get("webpage_url"):
            urls.append(str(entry.get("webpage_url") or entry["url"]))
        if len(urls) >= limit:
            break
    return urls


def stream_urls(info: dict[str, Any]) -> list[str]:
    """The URLs yt-dlp will download from for the selected format(s)."""
    chosen = info.get("requested_formats") or [info]
    return [str(f["url"]) for f in chosen if f.get("url")]


def download_subtitles(choice: SubtitleChoice, settings: Settings) -> str:
    """The text of one subtitle track (through yt-dlp's HTTP stack: same headers/cookies)."""
    import yt_dlp

    limit = 20 * 2**20
    try:
        with yt_dlp.YoutubeDL(ydl_options(settings)) as ydl:
            resp = ydl.urlopen(choice.url)
            data = resp.read(limit + 1)
    except Exception as exc:
        raise map_error(exc, choice.url) from None
    if len(data) > limit:
        raise BadInput("subtitle file larger than 20 MB")
    return data.decode("utf-8", errors="replace")


def download_audio(info: dict[str, Any], dest: Path, settings: Settings, *, timeout_s: float,
                   on_bytes: Callable[[int, int | None], None] | None = None) -> Path:
    """Download the selected (audio-preferred) format of a probed video into `dest`.

    `on_bytes(done, total)` reports progress; the download stops with BadInput when it grows
    beyond `settings.max_download_bytes` or takes longer than `timeout_s`.
    """
    import yt_dlp

    limit = settings.max_download_bytes
    deadline = time.monotonic() + timeout_s

    def hook(d: dict[str, Any]) -> None:
        done = int(d.get("downloaded_bytes") or 0)
        total = d.get("total_bytes") or d.get("total_bytes_estimate")
        if done > limit or (total and total > limit):
            raise _Abort(f"media download is larger than {limit / 2**20:g} MB "
                         "(LIBRARIAN_MAX_DOWNLOAD_BYTES)")
        if time.monotonic() > deadline:
            raise _Abort(f"media download took longer than {timeout_s:g} s")
        if on_bytes is not None and d.get("status") in ("downloading", "finished"):
            on_bytes(done, int(total) if total else None)

    url = str(info.get("webpage_url") or info.get("original_url") or info.get("url"))
    opts = ydl_options(settings, outtmpl=str(dest / "media.%(ext)s"), progress_hooks=[hook])
    try:
        with yt_dlp.YoutubeDL(opts) as ydl:
            done = ydl.process_ie_result(dict(info), download=True)
    except Exception as exc:
        for e in _chain(exc):
            if isinstance(e, _Abort):
                raise BadInput(str(e)) from None
        raise map_error(exc, url) from None
    files = [Path(d["filepath"]) for d in (done or {}).get("requested_downloads") or []
             if d.get("filepath")]
    files = [f for f in files if f.is_file()] or [p for p in dest.glob("media.*")
                                                   if p.is_file() and not p.name.endswith(".part")]
    if not files:
        raise BadInput(f"no media was downloaded from {url} (larger than "
                       f"{limit / 2**20:g} MB, or no downloadable format)")
    return files[0]


def segments_from_json(data: dict[str, Any]) -> list[Segment]:
    return [Segment(float(s["start"]), float(s["end"]), str(s["text"]))
            for s in data.get("segments") or []]
