"""Analytics from the platform fakes: after publishing to both, a refresh stores YouTube
Analytics' and TikTok's figures; the dashboard, one video's view and provenance impact report
them, with derivative works and the generation cost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server import runner, worker
from services import analytics, lineage
from services.provenance import ArtifactRecord, record_artifact
from storage.settings import Settings
from tests.fakes.platforms import Fake, serve
from tests.publishkit import fake_settings, sign_in, video_artifact

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def fake() -> Iterator[Fake]:
    with serve() as f:
        yield f


async def test_dashboard_video_and_impact_report_the_platforms_numbers(
        settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake)
    aid, _ = await video_artifact(cfg, ["CC-BY-4.0"], size=300 * 1024)
    await sign_in(cfg, "youtube", "tiktok")
    for platform in ("youtube", "tiktok"):
        job = await runner.run_job(cfg, await runner.submit(
            cfg, "publish", {"platform": platform, "artifact_id": aid}))
        assert job.status == "completed", job.error
    vid = next(iter(fake.uploads.values())).video_id
    fake.yt_stats[vid] = {"views": 1200, "likes": 80, "comments": 9, "shares": 14,
                          "estimatedMinutesWatched": 310}
    fake.tt_stats["7300000000000000001"] = {"view_count": 5400, "like_count": 610,
                                            "comment_count": 33, "share_count": 71}
    assert await worker.refresh_analytics({"settings": cfg}) == 2
    report = fake.requests("/v2/reports")[0]["query"]
    assert report["ids"] == "channel==MINE" and report["filters"] == f"video=={vid}"
    assert report["metrics"] == "views,likes,comments,shares,estimatedMinutesWatched"
    query = fake.requests("/v2/video/query/")[0]
    assert "view_count" in query["query"]["fields"]

    dash = await analytics.dashboard(cfg, "local")
    [row] = dash["videos"]
    assert row["metrics"]["youtube"]["views"] == 1200
    assert row["metrics"]["youtube"]["watch_minutes"] == 310
    assert row["metrics"]["tiktok"]["shares"] == 71
    assert row["metrics"]["tiktok"]["watch_minutes"] is None  # TikTok reports none per video
    assert dash["totals"]["views"] == 6600 and dash["totals"]["likes"] == 690
    assert row["cost"] == {"tts_chars": len("Coral reefs bleach when the water warms by one "
                                            "degree for weeks."),
                           "tts_usd": 0.0, "tts_provider": "offline", "llm_models": [],
                           "llm_usd": 0.0, "cloud_video_backends": [], "cloud_video_usd": 0.0,
                           "total_usd": 0.0, "complete": True}

    fake.yt_stats[vid]["views"] = 1500  # a later refresh: the latest reading wins
    one = await analytics.video(cfg, "local", aid, refresh_first=True)
    assert one["metrics"]["youtube"]["views"] == 1500
    assert [h["views"] for h in one["history"] if h["platform"] == "youtube"] == [1200, 1500]
    assert {p["platform"] for p in one["published"]} == {"youtube", "tiktok"}

    await record_artifact(cfg, ArtifactRecord(  # a version made from the published video
        id="art-v2", kind="video", owner="local", title="v2", job_id="job-v2", files={},
        recipe={"graph": "video"}, version_of=aid))
    imp = await lineage.impact(cfg, aid, owner="local")
    assert imp["totals"]["views"] == 6900 and imp["metrics"]["tiktok"]["views"] == 5400
    assert [w["artifact_id"] for w in imp["derivative_works"]] == ["art-v2"]
    assert {p["platform"] for p in imp["published"]} == {"youtube", "tiktok"}


async def test_a_platform_without_sign_in_is_reported_not_fatal(
        settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake)
    aid, _ = await video_artifact(cfg, ["CC-BY-4.0"], size=300 * 1024)
    await sign_in(cfg, "youtube")
    job = await runner.run_job(cfg, await runner.submit(
        cfg, "publish", {"platform": "youtube", "artifact_id": aid}))
    assert job.status == "completed", job.error
    from services import publishing

    await publishing.record(cfg, aid, "tiktok", "999", None, {})  # tokens since removed
    got = await analytics.refresh(cfg)
    assert got["stored"] == 1
    assert got["errors"] == ["local tiktok: no tiktok authorisation for local: run "
                             "`librarian publish auth tiktok` first"]
    crons = {j.name for j in worker.cron_jobs(cfg)}
    assert crons == {"refresh_trends", "refresh_analytics"}
