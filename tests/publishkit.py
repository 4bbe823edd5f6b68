"""A library with a video artifact to publish (a real file of the given size in the object
store, sources under chosen licences) and settings pointing every platform at the fakes."""

from __future__ import annotations

import os
import threading
from typing import Any

import httpx

from agents.script import Passage
from services import publishing
from services.provenance import ArtifactRecord, Piece, record_artifact, writer_maker
from storage import db, library
from storage.models import Source
from storage.objects import objects
from storage.settings import Settings, load_settings
from storage.tokens import new_key
from tests.fakes.platforms import Fake, settings_for

TEXTS = {"CC-BY-4.0": "Coral reefs bleach when the water warms by one degree for weeks.",
         "CC-BY-NC-4.0": "Reef fish return within a decade when fishing stops.",
         "CC-BY-SA-4.0": "Mangroves store four times more carbon than rainforests."}


def fake_settings(base: Settings, fake: Fake, **extra: Any) -> Settings:
    return load_settings(home=base.home, database_url=base.database_url, _env_file=None,
                         **{"token_key": new_key(), "publish_chunk_bytes": 256 * 1024,
                            "publish_poll_s": 0.05, **settings_for(fake), **extra})


async def video_artifact(settings: Settings, licences: list[str], *, size: int,
                         portrait: bool = True, seconds: float = 30.0,
                         owner: str = "local", job: str = "job-v1") -> tuple[str, bytes]:
    """A recorded video artifact made from one source per licence; (artifact id, file bytes)."""
    passages = []
    async with db.session(settings) as s:
        for n, lid in enumerate(licences):
            await library.ensure_licence(s, {"id": lid, "name": lid})
            sid = f"src-{n}" if job == "job-v1" else f"src-{job}-{n}"
            s.add(Source(id=sid, owner=owner, kind="paper", title=f"Reefs study {n}",
                         authors=["Ana Reyes", "Bo Li"], published="2021",
                         doi=f"10.1234/reef.{n}", content_hash=f"{sid}-h", licence_id=lid))
            passages.append(Passage(chunk_id=f"c-{sid}", source_id=sid, seq=0,
                                    text=TEXTS.get(lid, "Reefs."), source_title=f"Reefs study {n}"))
    aid = f"art-{job}"
    data = os.urandom(size)
    key = f"artifacts/{aid}/video.mp4"
    await objects(settings).put(key, data, "video/mp4")
    w, h = (1080, 1920) if portrait else (1920, 1080)
    await record_artifact(settings, ArtifactRecord(
        id=aid, kind="video", owner=owner, title="Why coral reefs bleach", job_id=job,
        files={"video": key}, recipe={"graph": "video", "sources": [p.source_id for p in passages],
                                      "parameters": {"topic": "coral reefs"}},
        duration_s=seconds, meta={"width": w, "height": h},
        pieces=[Piece(seq=i, kind="content", text=p.text, citations=[p.chunk_id], quote=p.text,
                      support=0.9) for i, p in enumerate(passages)],
        passages=passages, models=[writer_maker("extractive", None)]))
    return aid, data


def browser(url: str) -> None:
    """Follow the consent URL as a browser would (the fake approves at once)."""
    threading.Thread(target=httpx.get, args=(url,), kwargs={"follow_redirects": True},
                     daemon=True).start()


async def sign_in(settings: Settings, *platforms: str, owner: str = "local") -> None:
    for p in platforms:
        await publishing.authorise(settings, owner, p, browser, timeout_s=20)


