"""The issue's path end to end with the fakes: trends scored against a library, a 30 s 9:16
short made from the top supported topic's sources, published to YouTube and TikTok with the
disclosure flags and credits, the dashboard showing the platforms' numbers after a refresh."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from agents.brand import BrandVoice
from agents.publish_requests import TrendsRequest
from server import runner
from services import analytics, brand, lineage, trends
from storage.settings import Settings
from tests.conftest import TESTDATA
from tests.fakes.platforms import Fake, serve
from tests.publishkit import fake_settings, sign_in
from tests.test_trends import rss

pytestmark = [pytest.mark.slow,
              pytest.mark.parametrize("settings", ["sqlite"], indirect=True)]


@pytest.fixture
def fake() -> Iterator[Fake]:
    with serve() as f:
        f.trends_rss = rss([("nba finals game 7", "2M+"), ("duck species", "100K+")])
        yield f


async def test_from_a_trend_to_a_published_measured_short(settings: Settings,
                                                          fake: Fake) -> None:
    cfg = fake_settings(settings, fake, publish_chunk_bytes=1024 * 1024)
    job = await runner.run_job(cfg, await runner.submit(
        cfg, "ingest", {"source": str(TESTDATA / "html" / "wikipedia_duck.html")}))
    assert job.status == "completed", job.error
    ranked = (await trends.ranked(cfg, "local", TrendsRequest(region="US")))["trends"]
    top = ranked[0]
    assert top["topic"] == "duck species" and top["supported"]
    made = await trends.video_input(cfg, "local", top["trend_id"])
    await brand.put(cfg, "local", BrandVoice(accent_color="#22AA88", outro="Reef Notes.",
                                             tone="calm"))
    video = await runner.run_job(cfg, await runner.submit(
        cfg, "video", {**made, "style": "short", "seconds": 30.0}))
    assert video.status == "completed", video.error
    aid = video.result["artifact_id"]
    made_how = await lineage.recipe(cfg, aid)
    assert made_how["brand"] == {"tone": "calm", "logo": None, "accent_color": "#22AA88"}
    assert (video.result["width"], video.result["height"]) == (1080, 1920)
    await sign_in(cfg, "youtube", "tiktok")
    for platform in ("youtube", "tiktok"):
        pub = await runner.run_job(cfg, await runner.submit(
            cfg, "publish", {"platform": platform, "artifact_id": aid, "privacy": "public"}))
        assert pub.status == "completed", pub.error
    body = json.loads(fake.requests("/upload/youtube/v3/videos", "POST")[0]["body"])
    assert body["status"]["containsSyntheticMedia"] is True
    assert body["snippet"]["title"].endswith("#Shorts")  # 9:16 and under 60 s
    assert "wikipedia" in body["snippet"]["description"].lower()
    assert "Reef Notes." in body["snippet"]["description"]  # the brand's outro
    info = json.loads(fake.requests("/video/init/")[0]["body"])["post_info"]
    assert info["is_aigc"] is True and "Credit:" in info["title"]
    up = next(iter(fake.uploads.values()))
    fake.yt_stats[up.video_id] = {"views": 321, "likes": 12, "comments": 2, "shares": 3,
                                  "estimatedMinutesWatched": 95}
    fake.tt_stats["7300000000000000001"] = {"view_count": 999, "like_count": 40,
                                            "comment_count": 5, "share_count": 8}
    dash = await analytics.dashboard(cfg, "local", refresh_first=True)
    assert dash["totals"]["views"] == 1320 and dash["videos"][0]["artifact_id"] == aid
