"""Video and audio import: yt-dlp (real code path, local HTTP server), subtitles, Whisper."""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evals.metrics import wer
from server import runner
from services import catalog
from storage import db, library
from storage.errors import BadInput, Retryable
from storage.models import Source
from storage.objects import objects
from storage.settings import Settings, load_settings
from tests.conftest import TESTDATA
from tools import media

FIXTURES = Path(__file__).parent / "fixtures" / "ytdlp"


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test media plus a corrupt video and a plain page, over http://127.0.0.1."""
    root = tmp_path_factory.mktemp("www")
    for f in (TESTDATA / "media").iterdir():
        shutil.copy(f, root / f.name)
    (root / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage " * 4000)
    (root / "page.html").write_text("<html><head><title>Notes</title></head><body><p>Just "
                                    "text, no video here.</p></body></html>")
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path, fetch_allow_hosts=["127.0.0.1"])


async def _import(settings: Settings, **inp: Any) -> Any:
    job_id = await runner.submit(settings, "ingest", inp)
    events: list[dict[str, Any]] = []
    job = await runner.run_job(settings, job_id, events.append)
    setattr(job, "events", events)  # noqa: B010  (the progress events, for assertions)
    return job


async def _transcript(settings: Settings, source_id: str) -> dict[str, Any]:
    data = await objects(settings).get(f"sources/{source_id}/transcript.json")
    return dict(json.loads(data))


def _reference(path: Path) -> str:
    return re.sub(r"\[[\d.]+-[\d.]+\]", " ", path.read_text())


# --- real yt-dlp (generic extractor) + Whisper ----------------------------------------------


async def test_import_media_urls(tmp_path: Path, served: str, testdata: Path) -> None:
    settings = _settings(tmp_path)
    cases = [("jfk_ask_not_11s.flac", "audio", 11.0),
             ("librivox_shakespeare_on_scenery_10s.mp4", "video", 10.0)]
    for name, kind, seconds in cases:
        job = await _import(settings, source=f"{served}/{name}")
        assert job.status == "completed", job.error
        assert job.result["kind"] == kind and job.result["chunks"] >= 1
        sid = job.result["source_id"]
        tr = await _transcript(settings, sid)
        assert tr["source"] == "whisper"
        stem = name.rsplit(".", 1)[0]
        reference = _reference(testdata / "media" / f"{stem}.transcript.txt")
        text = " ".join(s["text"] for s in tr["segments"])
        assert wer(reference, text) <= 0.15, text
        starts = [s["start"] for s in tr["segments"]]
        assert starts == sorted(starts)
        assert all(0 <= s["start"] <= s["end"] <= seconds + 0.5 for s in tr["segments"])
        async with db.session(settings) as s:
            chunks = await library.source_chunks(s, sid)
            row = await s.get(Source, sid)
        assert row is not None and row.object_key and row.object_key.endswith(name[-4:])
        assert all(c.start_s is not None and c.end_s is not None and c.start_s <= c.end_s
                   for c in chunks)
        messages = [e.get("message", "") for e in job.events if e["type"] == "progress"]
        assert any("downloading audio" in m for m in messages)
        assert any(re.match(r"transcribing \d+ of \d+ s", m) for m in messages)
    hits = await catalog.search(settings, "ask not what your country can do for you", limit=1)
    assert hits[0].link == f"{served}/jfk_ask_not_11s.flac#t={int(hits[0].start_s or 0)}"

    again = await _import(settings, source=f"{served}/jfk_ask_not_11s.flac")
    assert again.status == "completed" and again.result["duplicate"] is True
    async with db.session(settings) as s:
        assert len(await library.list_sources(s)) == 2


async def test_local_file_and_reprocess(tmp_path: Path, testdata: Path) -> None:
    settings = _settings(tmp_path)
    job = await _import(settings, source=str(testdata / "media" / "jfk_ask_not_11s.flac"))
    assert job.status == "completed", job.error
    sid = job.result["source_id"]
    first = await _transcript(settings, sid)
    again = await _import(settings, reprocess_of=sid)
    assert again.status == "completed", again.error
    assert (await _transcript(settings, sid))["segments"] == first["segments"]


async def test_corrupt_media_and_no_audio(tmp_path: Path, served: str) -> None:
    settings = _settings(tmp_path)
    job = await _import(settings, source=f"{served}/corrupt.mp4")
    assert job.status == "failed" and job.attempts == 1
    assert "corrupt or unreadable media file corrupt.mp4" in (job.error or "")
    import imageio_ffmpeg

    silent = tmp_path / "silent.mp4"
    await asyncio.to_thread(subprocess.run, [
        imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
        "color=c=black:s=64x64:d=1", "-c:v", "mpeg4", str(silent)], check=True)
    job = await _import(settings, source=str(silent))
    assert job.status == "failed" and "no audio stream in silent.mp4" in (job.error or "")
    async with db.session(settings) as s:
        assert await library.list_sources(s, include_deleted=True) == []
    assert await objects(settings).list("") == []


def test_not_media_url(tmp_path: Path, served: str) -> None:
    with pytest.raises(BadInput, match="not a media URL"):
        media.extract_info(f"{served}/page.html", _settings(tmp_path))


# --- YouTube: URLs, recorded info dicts, subtitles ------------------------------------------


@pytest.mark.parametrize(("url", "vid"), [
    ("https://www.youtube.com/watch?v=aircAruvnKk", "aircAruvnKk"),
    ("https://youtube.com/watch?feature=share&v=aircAruvnKk&t=42s", "aircAruvnKk"),
    ("https://m.youtube.com/watch?v=aircAruvnKk&list=PLZHQObOWTQDNU6R1_67000Dx_ZCJB-3pi&index=1",
     "aircAruvnKk"),
    ("https://youtu.be/aircAruvnKk?si=Xy12&t=3", "aircAruvnKk"),
    ("https://www.youtube.com/shorts/jNQXAC9IVRw?feature=share", "jNQXAC9IVRw"),
    ("https://www.youtube.com/embed/jNQXAC9IVRw", "jNQXAC9IVRw"),
    ("https://www.youtube.com/watch?v=short", None),
    ("https://www.youtube.com/@3blue1brown", None),
    ("https://example.com/watch?v=aircAruvnKk", None),
])
def test_youtube_ids(url: str, vid: str | None) -> None:
    assert media.youtube_id(url) == vid


def test_classify_and_links() -> None:
    pl = "https://www.youtube.com/playlist?list=PLZHQObOWTQDNU6R1_67000Dx_ZCJB-3pi&si=x"
    assert media.youtube_playlist_id(pl) == "PLZHQObOWTQDNU6R1_67000Dx_ZCJB-3pi"
    assert media.classify(pl) == "playlist"
    assert media.classify("https://youtu.be/aircAruvnKk") == "youtube"
    assert media.classify("https://example.org/talk.MP3?x=1") == "direct"
    assert media.classify("https://example.org/paper.pdf") is None
    assert media.classify("https://vimeo.com/76979871") == "site"
    assert media.classify("https://example.org/blog/post") is None
    assert (media.media_link("https://www.youtube.com/watch?v=aircAruvnKk&t=5s", 751.6)
            == "https://www.youtube.com/watch?v=aircAruvnKk&t=751s")
    assert media.media_link("https://youtu.be/aircAruvnKk", 12) == "https://youtu.be/aircAruvnKk?t=12s"
    assert media.media_link("https://x.org/a.mp3", 90.2) == "https://x.org/a.mp3#t=90"
    assert media.media_link(None, 3) is None and media.timestamp(3723) == "1:02:03"
    urls = media.playlist_urls(_fixture("youtube_playlist_flat.json"), 3)
    assert urls == ["https://www.youtube.com/watch?v=aircAruvnKk",
                    "https://www.youtube.com/watch?v=IHZwWFHWa-w",
                    "https://www.youtube.com/watch?v=Ilg3gGewQ5U"]


def test_metadata_mapping() -> None:
    info = _fixture("youtube_cc_chapters.json")
    meta = media.media_meta(info)
    assert "formats" not in meta and meta["kind"] == "video"
    assert media.content_key(meta) == "youtube:aircAruvnKk"
    segments = media.parse_subtitles((FIXTURES / "uploaded.en-GB.srt").read_text(), "srt")
    doc = media.media_document(meta, segments, language="en", duration_s=None, source="subtitles")
    assert doc.title.startswith("But what is a neural network")
    assert doc.authors == ["3Blue1Brown"] and doc.published == "2017-10-05"
    assert doc.duration_s == 1117 and doc.licence == "CC-BY-3.0"
    assert doc.licence_evidence == "Creative Commons Attribution license (reuse allowed)"
    assert doc.url == "https://www.youtube.com/watch?v=aircAruvnKk" and doc.site == "Youtube"
    assert doc.metadata["thumbnail"].endswith("maxresdefault.jpg")
    assert doc.abstract and "neurons" in doc.abstract
    text_blocks = [b for b in doc.blocks if b.kind == "transcript"]
    assert [b.heading_path for b in text_blocks] == [["Introduction example"], ["Series preview"]]
    assert [b.text for b in doc.blocks if b.kind == "heading"] == ["Introduction example",
                                                                  "Series preview"]
    assert text_blocks[0].start_s == pytest.approx(4.219) and text_blocks[0].end_s == 10.433
    no_subs = media.media_meta(_fixture("youtube_no_subtitles.json"))
    assert media.media_document(no_subs, [], language=None, duration_s=None,
                                source="whisper").licence is None


def test_subtitle_selection_and_parsing() -> None:
    info = _fixture("youtube_cc_chapters.json")
    pick = media.choose_subtitles(info, "en")
    assert pick is not None and (pick.language, pick.ext, pick.automatic) == ("en-GB", "json3",
                                                                                False)
    pick = media.choose_subtitles(info, "de")
    assert pick is not None and pick.automatic and pick.language == "de"
    pick = media.choose_subtitles(_fixture("youtube_auto_captions.json"), "en")
    assert pick is not None and pick.automatic and pick.language == "en"
    assert media.choose_subtitles(_fixture("youtube_no_subtitles.json"), "en") is None
    assert media.choose_subtitles(info, "ja") is None

    vtt = media.parse_subtitles((FIXTURES / "auto_captions.en.vtt").read_text(), "vtt")
    assert " ".join(s.text for s in vtt) == ("this is a three sloppily written and rendered "
                                            "at an extremely low resolution")
    assert [s.start for s in vtt] == sorted(s.start for s in vtt)
    j3 = media.parse_subtitles((FIXTURES / "uploaded.en-GB.json3").read_text(), "json3")
    assert [s.text for s in j3][:2] == ["This is a 3.", "It's sloppily written and rendered at "
                                        "an extremely low resolution"]
    assert j3[1].start == 6.6 and j3[1].end == pytest.approx(10.433)


def test_paragraph_blocks() -> None:
    from tools.transcribe import Segment

    segs = [Segment(i * 4.0, i * 4.0 + 3.5, f"Sentence number {i}.") for i in range(40)]
    blocks = media.transcript_blocks(segs)
    assert all(10 <= b.end_s - b.start_s <= 30 for b in blocks[:-1])  # type: ignore[operator]
    assert blocks[0].start_s == 0 and blocks[-1].end_s == segs[-1].end
    assert " ".join(b.text for b in blocks) == " ".join(s.text for s in segs)


def test_error_mapping() -> None:
    from yt_dlp.networking.exceptions import TransportError
    from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError

    url = "https://www.youtube.com/watch?v=aircAruvnKk"
    private = DownloadError("ERROR: [youtube] aircAruvnKk: Private video. Sign in if you've "
                            "been granted access to this video")
    assert isinstance(media.map_error(private, url), BadInput)
    assert "private" in str(media.map_error(private, url))
    removed = DownloadError("ERROR: [youtube] x: Video unavailable. This video has been removed "
                            "by the uploader")
    assert "removed" in str(media.map_error(removed, url))
    geo = DownloadError("ERROR: geo", exc_info=(GeoRestrictedError, GeoRestrictedError(
        "This video is not available in your country"), None))
    assert str(media.map_error(geo, url)).startswith("geo-blocked")
    net = DownloadError("ERROR: Unable to download webpage", exc_info=(
        ExtractorError, ExtractorError("Unable to download", cause=TransportError("reset")),
        None))
    assert isinstance(media.map_error(net, url), Retryable)


# --- the YouTube path through the graph, with yt-dlp's network calls recorded ---------------


async def test_youtube_import_reimport_reprocess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    import tools.fetch

    info = _fixture("youtube_cc_chapters.json")
    calls: list[str] = []

    async def check_url(url: str, settings: Settings) -> Any:
        calls.append(f"check {url.split('?')[0]}")
        return None

    def extract_info(url: str, settings: Settings, **_: Any) -> dict[str, Any]:
        calls.append(f"info {url}")
        return dict(info)

    def download_subtitles(choice: media.SubtitleChoice, settings: Settings) -> str:
        calls.append(f"subtitles {choice.language}.{choice.ext}")
        return (FIXTURES / f"uploaded.{choice.language}.{choice.ext}").read_text()

    monkeypatch.setattr(tools.fetch, "check_url", check_url)
    monkeypatch.setattr(media, "extract_info", extract_info)
    monkeypatch.setattr(media, "download_subtitles", download_subtitles)
    settings = _settings(tmp_path)
    job = await _import(settings, source="https://youtu.be/aircAruvnKk?si=Xy12")
    assert job.status == "completed", job.error
    assert job.result["licence"] == "CC-BY-3.0" and job.result["kind"] == "video"
    assert "subtitles en-GB.json3" in calls
    sid = job.result["source_id"]
    assert (await _transcript(settings, sid))["source"] == "subtitles"
    hits = await catalog.search(settings, "brain recognizing a handwritten 3", limit=3)
    hit = next(h for h in hits if h.start_s and h.start_s > 100)
    assert hit.heading_path == ["Series preview"]
    assert hit.link == "https://www.youtube.com/watch?v=aircAruvnKk&t=184s"

    calls.clear()
    again = await _import(settings, source="https://www.youtube.com/watch?v=aircAruvnKk")
    assert again.result["duplicate"] is True and again.result["source_id"] == sid
    assert not any(c.startswith("subtitles") for c in calls)

    calls.clear()
    redo = await _import(settings, reprocess_of=sid)
    assert redo.status == "completed", redo.error
    assert calls == [] and redo.result["title"].startswith("But what is a neural network")


def test_segments_split_into_sentences_by_word_times() -> None:
    from types import SimpleNamespace as W

    from tools.transcribe import sentences

    words = [W(word=" And", start=0.0, end=0.3), W(word=" so,", start=0.3, end=0.6),
             W(word=" my", start=0.7, end=0.9), W(word=" friends.", start=0.9, end=1.5),
             W(word=" Ask", start=2.0, end=2.4), W(word=" not", start=2.4, end=2.8),
             W(word=" what?\"", start=2.8, end=3.4), W(word=" Your", start=3.6, end=3.9),
             W(word=" country", start=3.9, end=4.6)]
    seg = W(start=0.0, end=4.8, text=" And so, my friends. Ask not what?\" Your country",
            words=words)
    got = sentences(seg, total=4.5)
    assert [(s.start, s.end, s.text) for s in got] == [
        (0.0, 1.5, "And so, my friends."), (2.0, 3.4, "Ask not what?\""),
        (3.6, 4.5, "Your country")]  # the last is clipped to the audio's length
    bare = W(start=1.0, end=2.0, text=" No word times. ", words=None)
    assert [(s.start, s.end, s.text) for s in sentences(bare, total=9)] == [
        (1.0, 2.0, "No word times.")]
