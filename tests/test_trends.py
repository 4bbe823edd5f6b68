"""Trends from loopback fakes of Google Trends' daily RSS and YouTube's most popular chart:
stored with source, score, volume and time; ranked by virality and by library support; an
unsupported topic is marked and no video is made from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents.publish_requests import TrendsRequest
from server import runner
from services import trends
from storage import db
from storage.errors import Forbidden
from storage.models import Trend
from storage.settings import Settings, load_settings
from tests.conftest import TESTDATA
from tests.fakes.platforms import Fake, serve, settings_for

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def rss(items: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><ht:approx_traffic>{v}</ht:approx_traffic>"
        f"<pubDate>Fri, 4 Dec 2026 10:00:00 -0800</pubDate><ht:news_item>"
        f"<ht:news_item_title>News on {t}</ht:news_item_title><ht:news_item_url>"
        f"https://news.example/{t.replace(' ', '-')}</ht:news_item_url></ht:news_item></item>"
        for t, v in items)
    return ('<?xml version="1.0" encoding="UTF-8"?><rss xmlns:atom="http://www.w3.org/2005/'
            'Atom" xmlns:ht="https://trends.google.com/trending/rss" version="2.0"><channel>'
            f"<title>Daily Search Trends</title>{body}</channel></rss>")


def video(vid: str, title: str, views: int, likes: int, comments: int, cat: str,
          tags: list[str]) -> dict[str, Any]:
    return {"kind": "youtube#video", "id": vid, "snippet": {
        "title": title, "categoryId": cat, "tags": tags, "channelTitle": "Chan",
        "publishedAt": "2026-12-03T12:00:00Z"}, "statistics": {
        "viewCount": str(views), "likeCount": str(likes), "commentCount": str(comments)}}


@pytest.fixture
def fake() -> Iterator[Fake]:
    with serve() as f:
        f.trends_rss = rss([("duck migration", "200K+"), ("nba finals game 7", "2M+"),
                            ("creative commons licenses", "20K+")])
        f.popular = [
            video("v1", "Wild ducks: how mallards raise their ducklings", 900_000, 60_000,
                  4_000, "15", ["ducks", "mallard", "birds"]),
            video("v2", "Top 10 goals of the season", 5_000_000, 100_000, 9_000, "17",
                  ["football", "goals"]),
        ]
        yield f


async def _import(settings: Settings, path: Path) -> str:
    job = await runner.run_job(settings, await runner.submit(settings, "ingest",
                                                             {"source": str(path)}))
    assert job.status == "completed", job.error
    return str(job.result["source_id"])


async def test_trends_are_stored_scored_and_ranked_by_library_support(
        settings: Settings, fake: Fake) -> None:
    cfg = load_settings(home=settings.home, _env_file=None, **settings_for(fake))
    duck = await _import(cfg, TESTDATA / "html" / "wikipedia_duck.html")
    cc = await _import(cfg, TESTDATA / "html" / "creativecommons_about.html")
    out = await trends.ranked(cfg, "local", TrendsRequest(region="US"))
    by_topic = {t["topic"]: t for t in out["trends"]}
    print({k: (v["support"], v["virality"], v["score"]) for k, v in by_topic.items()})
    assert set(by_topic) == {"duck migration", "nba finals game 7", "creative commons licenses",
                             "Wild ducks: how mallards raise their ducklings",
                             "Top 10 goals of the season"}
    assert by_topic["duck migration"]["supported"]
    assert by_topic["duck migration"]["sources"][0]["source_id"] == duck
    assert [s["source_id"] for s in by_topic["creative commons licenses"]["sources"]] == [cc]
    assert not by_topic["nba finals game 7"]["supported"]
    assert by_topic["nba finals game 7"]["score"] == 0.0 and by_topic["nba finals game 7"][
        "sources"] == []
    # the most searched topic is the most viral, yet unsupported topics rank last
    assert by_topic["nba finals game 7"]["virality"] > by_topic["duck migration"]["virality"]
    ranks = [t["topic"] for t in out["trends"]]
    assert ranks.index("nba finals game 7") > ranks.index("duck migration")
    assert out["trends"][0]["supported"]
    async with db.session(cfg) as s:
        rows = list((await s.execute(select(Trend))).scalars())
    assert {r.source for r in rows} == {"google_trends", "youtube"} and len(rows) == 5
    nba = next(r for r in rows if r.topic == "nba finals game 7")
    assert nba.volume == 2e6 and nba.fetched_at is not None and 0 < nba.score <= 1
    yt = next(r for r in rows if r.meta.get("video_id") == "v1")
    assert yt.meta["engagement"] == pytest.approx(64_000 / 900_000)
    popular = fake.requests("/youtube/v3/videos")[0]["query"]
    assert popular["chart"] == "mostPopular" and popular["regionCode"] == "US"

    niche = await trends.ranked(cfg, "local", TrendsRequest(region="US", topic="birds"))
    assert {t["topic"] for t in niche["trends"]} == {
        "duck migration", "Wild ducks: how mallards raise their ducklings"}

    sup = next(t for t in out["trends"] if t["topic"] == "duck migration")
    made = await trends.video_input(cfg, "local", sup["trend_id"])
    assert made == {"topic": "duck migration", "sources": [duck]}
    with pytest.raises(Forbidden, match="no supporting source"):
        await trends.video_input(cfg, "local", by_topic["nba finals game 7"]["trend_id"])


async def test_growth_since_the_last_fetch_raises_virality(settings: Settings,
                                                          fake: Fake) -> None:
    cfg = load_settings(home=settings.home, _env_file=None,
                        **{**settings_for(fake), "youtube_api_key": ""})
    first = await trends.refresh(cfg, "GB")
    assert first["notes"] == ["YouTube chart skipped: set LIBRARIAN_YOUTUBE_API_KEY"]
    fake.trends_rss = rss([("duck migration", "400K+"), ("nba finals game 7", "2M+")])
    await trends.refresh(cfg, "GB")
    rows = await trends.latest(cfg, "GB", None)
    growth = {r.topic: r.meta["growth"] for r in rows}
    assert growth == {"duck migration": 1.0, "nba finals game 7": 0.0}
    assert fake.requests("/trending/rss")[0]["query"] == {"geo": "GB"}


async def test_the_worker_cron_refreshes_every_region(settings: Settings, fake: Fake) -> None:
    from server import worker

    cfg = load_settings(home=settings.home, _env_file=None, trends_regions=["US", "DE"],
                        **settings_for(fake))
    jobs = worker.worker_options(cfg.model_copy(update={"redis_url": "redis://127.0.0.1"})
                                 )["cron_jobs"]
    job = next(j for j in jobs if j.name == "refresh_trends")
    assert job.hour == {0, 6, 12, 18} and job.minute == 0
    hourly = next(j for j in jobs if j.name == "refresh_analytics")
    assert hourly.hour == set(range(24))
    off = cfg.model_copy(update={"trends_refresh_hours": 0, "analytics_refresh_hours": 0})
    assert worker.cron_jobs(off) == []
    assert await worker.refresh_trends({"settings": cfg}) == 10
    assert {r["query"]["geo"] for r in fake.requests("/trending/rss")} == {"US", "DE"}


def test_cli_trends_and_a_video_from_an_unsupported_trend_refused(
        settings: Settings, fake: Fake, tmp_path: Path) -> None:
    import asyncio
    import json
    import os
    import subprocess

    from tests.conftest import REPO
    from tests.test_cli import LIBRARIAN

    cfg = load_settings(home=settings.home, _env_file=None, **settings_for(fake))

    async def setup() -> None:
        await _import(cfg, TESTDATA / "html" / "wikipedia_duck.html")
        await db.dispose()

    asyncio.run(setup())
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    env.update({f"LIBRARIAN_{k.upper()}": v for k, v in settings_for(fake).items()})
    env.update(LIBRARIAN_HOME=str(settings.home), LIBRARIAN_VOICE_ENGINE="piper")
    if settings.database_url:
        env["LIBRARIAN_DATABASE_URL"] = settings.database_url
    proc = subprocess.run([str(LIBRARIAN), "trends", "--region", "US", "--json"], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows[0]["topic"] == "duck migration" and rows[0]["supported"]
    nba = next(r for r in rows if r["topic"] == "nba finals game 7")
    made = subprocess.run([str(LIBRARIAN), "make", "video", "--trend", str(nba["trend_id"])],
                          env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert made.returncode == 1 and "no supporting source" in made.stderr
    assert len(made.stderr.strip().splitlines()) == 1
    bad = subprocess.run([str(LIBRARIAN), "trends", "--region", "usa"], env=env,
                         capture_output=True, text=True, timeout=60, cwd=REPO)
    assert bad.returncode == 2 and "region" in bad.stderr
