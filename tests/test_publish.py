"""Publishing against local fakes of YouTube and TikTok (tests/fakes/platforms.py): what our
client sends (disclosure flags, chunk ranges, credits), resumable uploads that resume from the
last acknowledged byte, token refresh on 401, quota and 5xx handling, licence refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from agents.publish_requests import PublishRequest
from server import runner
from services import publishing
from storage import db, edges
from storage.errors import ConfigError, Forbidden
from storage.models import PlatformToken
from storage.settings import Settings
from tests.fakes.platforms import Fake, serve
from tests.publishkit import fake_settings, sign_in, video_artifact

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)
KiB = 1024


@pytest.fixture
def fake() -> Iterator[Fake]:
    with serve() as f:
        yield f


async def _publish(cfg: Settings, aid: str, platform: str, **params: object) -> object:
    job_id = await runner.submit(cfg, "publish", {"platform": platform, "artifact_id": aid,
                                                   **params})
    return await runner.run_job(cfg, job_id)


def _ranges(fake: Fake) -> list[str]:
    return [r["headers"].get("content-range", "") for r in fake.requests("/upload/", "PUT")]


async def test_youtube_resumable_upload_with_disclosure_credits_shorts_and_playlist(
        settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake)
    aid, data = await video_artifact(cfg, ["CC-BY-4.0", "CC-BY-SA-4.0"], size=900 * KiB)
    await sign_in(cfg, "youtube")
    job = await _publish(cfg, aid, "youtube", privacy="public", playlist="PLreefs")
    assert job.status == "completed", job.error
    up = next(iter(fake.uploads.values()))
    assert bytes(up.data) == data
    insert = fake.requests("/upload/youtube/v3/videos", "POST")[0]
    assert insert["query"] == {"uploadType": "resumable", "part": "snippet,status"}
    assert insert["headers"]["x-upload-content-length"] == str(len(data))
    body = json.loads(insert["body"])
    assert body["status"] == {"privacyStatus": "public", "selfDeclaredMadeForKids": False,
                              "containsSyntheticMedia": True}
    snippet = body["snippet"]
    assert snippet["title"].endswith("#Shorts") and "#Shorts" in snippet["description"]
    for n in (0, 1):  # every source's link and licence, share-alike named
        assert f"https://doi.org/10.1234/reef.{n}" in snippet["description"]
    assert "CC-BY-SA-4.0" in snippet["description"] and "Made with AI" in snippet["description"]
    assert "coral" in snippet["tags"] and snippet["categoryId"] == "27"
    size = len(data)
    assert _ranges(fake) == [f"bytes */{size}", f"bytes 0-{256 * KiB - 1}/{size}",
                             f"bytes {256 * KiB}-{512 * KiB - 1}/{size}",
                             f"bytes {512 * KiB}-{768 * KiB - 1}/{size}",
                             f"bytes {768 * KiB}-{size - 1}/{size}"]
    assert fake.playlist_items[0]["snippet"] == {"playlistId": "PLreefs", "resourceId": {
        "kind": "youtube#video", "videoId": up.video_id}}
    async with db.session(cfg) as s:
        [edge] = await edges.edges_from(s, "artifact", [aid], "PUBLISHED_TO")
    assert edge.dst_id == f"youtube:{up.video_id}"
    assert edge.props["url"] == f"https://youtube.com/shorts/{up.video_id}"
    assert edge.props["synthetic_media"] is True and edge.props["published_at"]
    assert job.result["url"] == edge.props["url"]


async def test_interrupted_upload_resumes_from_the_last_acknowledged_byte(
        settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake, job_max_attempts=2)
    aid, data = await video_artifact(cfg, ["CC-BY-4.0"], size=1000 * KiB)
    await sign_in(cfg, "youtube")
    kept = 256 * KiB + 1234  # the connection dropped inside the second chunk
    job_id = await runner.submit(cfg, "publish", {"platform": "youtube", "artifact_id": aid})
    # the second chunk is cut after 1234 bytes, then the service stays down for both attempts
    calls = {"n": 0}
    from tests.fakes import platforms

    real = platforms._yt_chunk

    def flaky(f: Fake, up: platforms.Upload, rng: str, body: bytes) -> object:
        first = platforms._range(rng)[0]
        if first >= 256 * KiB and calls["n"] < 2:
            calls["n"] += 1
            if calls["n"] == 1:
                up.data.extend(body[:1234])
            return platforms.google_error(503, "backendError", "Backend Error", "global")
        return real(f, up, rng, body)

    platforms._yt_chunk = flaky  # type: ignore[assignment]
    try:
        job = await runner.run_job(cfg, job_id)
        assert job.status == "failed" and "503" in (job.error or ""), job.error
        session_posts = len(fake.requests("/upload/youtube/v3/videos", "POST"))
        before = len(_ranges(fake))
        await runner.prepare_retry(cfg, job_id)
        job = await runner.run_job(cfg, job_id)
    finally:
        platforms._yt_chunk = real  # type: ignore[assignment]
    assert job.status == "completed", job.error
    up = next(iter(fake.uploads.values()))
    assert bytes(up.data) == data
    assert len(fake.requests("/upload/youtube/v3/videos", "POST")) == session_posts == 1
    resumed = _ranges(fake)[before:]
    size = len(data)
    assert resumed[0] == f"bytes */{size}"  # asks the session how far it got
    assert resumed[1].startswith(f"bytes {kept}-")  # and continues from the next byte


async def test_5xx_is_retried_and_403_quota_is_not(settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake)
    aid, data = await video_artifact(cfg, ["CC-BY-4.0"], size=300 * KiB)
    await sign_in(cfg, "youtube")
    fake.chunk_faults = [500]
    job = await _publish(cfg, aid, "youtube")
    assert job.status == "completed", job.error
    assert bytes(next(iter(fake.uploads.values())).data) == data
    fake.quota_exceeded = True
    posts = len(fake.requests("/upload/youtube/v3/videos", "POST"))
    job = await _publish(cfg, aid, "youtube")
    assert job.status == "failed" and "quotaExceeded" in (job.error or "")
    assert "quota is used up" in (job.error or "")
    assert len(fake.requests("/upload/youtube/v3/videos", "POST")) == posts + 1  # no retry


async def test_tiktok_direct_post_chunked_with_aigc_flag_and_credits(
        settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake)
    aid, data = await video_artifact(cfg, ["CC-BY-4.0"], size=11 * 1024 * KiB)
    await sign_in(cfg, "tiktok")
    fake.expire_tokens()  # the stored access token now answers 401: refreshed, then retried
    job = await _publish(cfg, aid, "tiktok", privacy="public", tags=["coralreefs", "ocean"])
    assert job.status == "completed", job.error
    init = json.loads(fake.requests("/v2/post/publish/video/init/")[-1]["body"])
    info, src = init["post_info"], init["source_info"]
    assert info["is_aigc"] is True and info["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert "#coralreefs #ocean" in info["title"]
    assert "Credit: Reyes & Li (2021), CC-BY-4.0" in info["title"]
    assert "https://doi.org/10.1234/reef.0" in info["title"]
    mb5 = 5 * 1024 * KiB
    assert src == {"source": "FILE_UPLOAD", "video_size": len(data), "chunk_size": mb5,
                   "total_chunk_count": 2}
    puts = [r["headers"]["content-range"] for r in fake.requests("/tt-upload/", "PUT")]
    assert puts == [f"bytes 0-{mb5 - 1}/{len(data)}", f"bytes {mb5}-{len(data) - 1}/{len(data)}"]
    post = next(iter(fake.posts.values()))
    assert bytes(post.data) == data
    grants = [r for r in fake.requests("/v2/oauth/token/") if b"refresh_token" in r["body"]]
    assert grants and b"grant_type=refresh_token" in grants[0]["body"]
    assert len(fake.requests("/status/fetch/")) >= 3  # polled until PUBLISH_COMPLETE
    assert job.result["id"] == "7300000000000000001"
    assert job.result["url"] == "https://www.tiktok.com/@librarian_fake/video/7300000000000000001"


async def test_an_interrupted_tiktok_upload_resumes_at_the_next_chunk(
        settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake, job_max_attempts=2)
    aid, data = await video_artifact(cfg, ["CC-BY-4.0"], size=11 * 1024 * KiB)
    await sign_in(cfg, "tiktok")
    mb5 = 5 * 1024 * KiB
    fake.tt_chunk_faults, fake.fault_after = [502, 502], mb5  # the second chunk fails twice
    job_id = await runner.submit(cfg, "publish", {"platform": "tiktok", "artifact_id": aid})
    job = await runner.run_job(cfg, job_id)
    assert job.status == "failed" and "502" in (job.error or ""), job.error
    before = len(fake.requests("/tt-upload/", "PUT"))
    await runner.prepare_retry(cfg, job_id)
    job = await runner.run_job(cfg, job_id)
    assert job.status == "completed", job.error
    resumed = [r["headers"]["content-range"] for r in fake.requests("/tt-upload/", "PUT")]
    assert resumed[before:] == [f"bytes {mb5}-{len(data) - 1}/{len(data)}"]  # chunk 2 only
    assert len(fake.requests("/video/init/")) == 1  # the same publish id, not a new post
    assert bytes(next(iter(fake.posts.values())).data) == data


async def test_licence_refusals_name_the_source(settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake)
    aid, _ = await video_artifact(cfg, ["CC-BY-4.0", "CC-BY-NC-4.0"], size=10 * KiB)
    req = PublishRequest(platform="youtube", artifact_id=aid, commercial=True)
    with pytest.raises(Forbidden, match=r"commercial channel refused.*src-1.*CC-BY-NC-4.0"):
        await publishing.prepare(cfg, "local", req)
    await publishing.prepare(cfg, "local", req.model_copy(update={"commercial": False}))
    with pytest.raises(Forbidden, match=r"without credits refused.*src-0"):
        await publishing.prepare(cfg, "local", req.model_copy(update={
            "commercial": False, "credits": False}))
    nd, _ = await video_artifact(cfg, ["CC-BY-ND-4.0"], size=10 * KiB, job="job-nd")
    with pytest.raises(Forbidden, match="no derivatives.*CC-BY-ND-4.0"):
        await publishing.prepare(cfg, "local", PublishRequest(platform="tiktok",
                                                              artifact_id=nd))
    job = await _publish(cfg, aid, "youtube", commercial=True)  # refused inside the job too
    assert job.status == "failed" and "src-1" in (job.error or "")
    assert not fake.requests("/upload/")


async def test_missing_credentials_fail_fast_naming_the_setting(
        settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake)
    aid, _ = await video_artifact(cfg, ["CC-BY-4.0"], size=10 * KiB)
    with pytest.raises(ConfigError, match="librarian publish auth youtube"):
        await publishing.auth_for(cfg, "local", "youtube")
    bare = fake_settings(settings, fake, youtube_client_id="")
    with pytest.raises(ConfigError, match="LIBRARIAN_YOUTUBE_CLIENT_ID"):
        await publishing.auth_for(bare, "local", "youtube")
    nokey = cfg.model_copy(update={"token_key": None})
    with pytest.raises(ConfigError, match="LIBRARIAN_TOKEN_KEY"):
        await sign_in(nokey, "tiktok")
    job = await _publish(cfg, aid, "tiktok")
    assert job.status == "failed" and "librarian publish auth tiktok" in (job.error or "")


async def test_tokens_are_encrypted_at_rest(settings: Settings, fake: Fake) -> None:
    cfg = fake_settings(settings, fake)
    await sign_in(cfg, "youtube")
    async with db.session(cfg) as s:
        row = (await s.execute(select(PlatformToken))).scalar_one()
    refresh = next(iter(fake.refresh_tokens))
    assert refresh not in row.ciphertext and "access_token" not in row.ciphertext
    auth = await publishing.auth_for(cfg, "local", "youtube")
    assert auth.token in fake.tokens
    auth_req = fake.requests("/oauth2/auth")[0]["query"]
    assert auth_req["code_challenge_method"] == "S256" and auth_req["access_type"] == "offline"


async def test_instagram_is_prepared_for_manual_posting(settings: Settings,
                                                        fake: Fake) -> None:
    cfg = fake_settings(settings, fake)
    aid, _ = await video_artifact(cfg, ["CC-BY-4.0"], size=10 * KiB)
    job = await _publish(cfg, aid, "instagram")
    assert job.status == "completed", job.error
    assert job.result["manual"] is True
    assert job.result["download_url"] == f"/api/artifacts/{aid}/files/video"
    assert "Credit: Reyes & Li (2021), CC-BY-4.0" in job.result["caption"]
    assert not fake.log


async def test_brand_voice_shapes_and_guards_what_is_published(settings: Settings,
                                                               fake: Fake) -> None:
    from agents.brand import BrandVoice
    from services import brand

    cfg = fake_settings(settings, fake)
    aid, _ = await video_artifact(cfg, ["CC-BY-4.0"], size=10 * KiB)
    await brand.put(cfg, "local", BrandVoice(
        tone="calm", use_words=["reefscience"], avoid_words=["miracle"],
        intro="Reef Notes: science in a minute.", outro="Follow for more reef science."))
    req = PublishRequest(platform="tiktok", artifact_id=aid)
    got = await publishing.prepare(cfg, "local", req)
    caption = got["description"]
    assert caption.startswith("Reef Notes: science in a minute.")
    assert caption.endswith("Follow for more reef science.") and "#reefscience" in caption
    yt = await publishing.prepare(cfg, "local", req.model_copy(update={"platform": "youtube"}))
    assert yt["tags"][0] == "reefscience" and yt["description"].startswith("Reef Notes")
    with pytest.raises(Forbidden, match="brand voice.*'miracle'"):
        await publishing.prepare(cfg, "local", req.model_copy(update={
            "title": "A Miracle for reefs"}))
    from storage.errors import BadInput

    with pytest.raises(BadInput, match="logo"):
        await brand.put(cfg, "local", BrandVoice(logo="not-an-image"))


async def test_voice_clone_posts_the_sample_to_elevenlabs(settings: Settings,
                                                          fake: Fake) -> None:
    from tests.fakes.platforms import EL_KEY
    from tools import voice_clone

    cfg = fake_settings(settings, fake, elevenlabs_api_key=EL_KEY)
    voice = await voice_clone.clone(cfg, "Ana", [("ana.wav", b"RIFF....WAVE", "audio/wav")])
    assert voice == "elevenlabs:clonedVoice123"
    sent = fake.requests("/v1/voices/add")[0]
    assert sent["form"] == {"name": "Ana", "files": ["ana.wav"]}
    with pytest.raises(ConfigError, match="LIBRARIAN_ELEVENLABS_API_KEY"):
        await voice_clone.clone(fake_settings(settings, fake), "Ana", [])
    with pytest.raises(Forbidden, match="rejected"):
        await voice_clone.clone(fake_settings(settings, fake, elevenlabs_api_key="wrong-key-1"),
                                "Ana", [("a.wav", b"x", "audio/wav")])

