"""Analytics of published artifacts: each platform's views, likes, comments, shares and watch
time (YouTube Analytics reports, TikTok video query), stored per reading; the dashboard and one
video's view, with what generating the artifact cost beside it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from services import publishing
from storage import artifacts as artifacts_db
from storage import db, edges
from storage import metrics as platform_metrics
from storage.errors import LibrarianError
from storage.models import Artifact, PlatformMetric, Segment
from storage.settings import Settings
from tools import platform_http, tiktok, youtube
from tools.tts import ELEVENLABS_USD_PER_1K_CHARS

MEASURED = ("youtube", "tiktok")


async def _published(settings: Settings, owner: str | None,
                     artifact_id: str | None) -> list[tuple[Artifact, dict[str, Any]]]:
    """(artifact, publication) for every PUBLISHED_TO edge in scope."""
    async with db.session(settings) as s:
        if artifact_id:
            arts = [await artifacts_db.get_artifact(s, artifact_id, owner)]
        else:
            arts = await artifacts_db.list_artifacts(s, owner, kind="video", limit=10_000)
        by_id = {a.id: a for a in arts}
        found = await edges.edges_from(s, "artifact", list(by_id), "PUBLISHED_TO")
    return [(by_id[e.src_id], dict(e.props or {})) for e in found]


async def _youtube(settings: Settings, owner: str, pubs: list[dict[str, Any]]
                   ) -> list[dict[str, Any]]:
    auth = await publishing.auth_for(settings, owner, "youtube")
    out = []
    async with platform_http.client() as http:
        for p in pubs:
            start = date.fromisoformat(str(p.get("published_at", ""))[:10] or
                                       date.today().isoformat())
            got = await youtube.video_report(http, settings.youtube_analytics_url, auth,
                                             p["id"], start, datetime.now(UTC).date())
            out.append({"views": got.get("views"), "likes": got.get("likes"),
                        "comments": got.get("comments"), "shares": got.get("shares"),
                        "watch_minutes": got.get("estimatedMinutesWatched")})
    return out


async def _tiktok(settings: Settings, owner: str, pubs: list[dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    """TikTok's query gives counts, not watch time (its API has none per video)."""
    auth = await publishing.auth_for(settings, owner, "tiktok")
    async with platform_http.client() as http:
        got = {str(v.get("id")): v for v in await tiktok.query_videos(
            http, settings.tiktok_api_url, auth, [str(p["id"]) for p in pubs])}
    return [{"views": got.get(str(p["id"]), {}).get("view_count"),
             "likes": got.get(str(p["id"]), {}).get("like_count"),
             "comments": got.get(str(p["id"]), {}).get("comment_count"),
             "shares": got.get(str(p["id"]), {}).get("share_count"),
             "watch_minutes": None} for p in pubs]


async def refresh(settings: Settings, owner: str | None = None,
                  artifact_id: str | None = None) -> dict[str, Any]:
    """Read every publication's figures from its platform and store them. A platform that
    fails for an owner (no sign-in, expired grant) is reported in `errors`, the rest go on."""
    groups: dict[tuple[str, str], list[tuple[Artifact, dict[str, Any]]]] = {}
    for art, pub in await _published(settings, owner, artifact_id):
        if pub.get("platform") in MEASURED:
            groups.setdefault((art.owner, pub["platform"]), []).append((art, pub))
    stored, errors = 0, []
    for (who, platform), items in groups.items():
        read = _youtube if platform == "youtube" else _tiktok
        try:
            figures = await read(settings, who, [p for _, p in items])
        except LibrarianError as exc:
            errors.append(f"{who} {platform}: {exc}")
            continue
        async with db.session(settings) as s:
            for (art, pub), fig in zip(items, figures, strict=True):
                s.add(PlatformMetric(artifact_id=art.id, platform=platform,
                                     video_id=str(pub["id"]), **{
                                         k: (None if v is None else (float(v) if k ==
                                             "watch_minutes" else int(v)))
                                         for k, v in fig.items()}))
                stored += 1
    return {"stored": stored, "errors": errors}


async def cost(settings: Settings, art: Artifact) -> dict[str, Any]:
    """What generating the artifact cost: synthesised speech by voice provider (ElevenLabs
    at its list price, offline voices free), the LLM writer and cloud clip backends named
    (their usage is not metered here, so their cost is None rather than a guess)."""
    async with db.session(settings) as s:
        texts = (await s.execute(select(Segment.text).where(
            Segment.artifact_id == art.id))).scalars()
        chars = sum(len(t or "") for t in texts)
        made = [e for e in await edges.edges_from(s, "artifact", [art.id], "GENERATED_BY")
                if e.dst_type == "model"]
        voices = await edges.edges_from(s, "artifact", [art.id], "NARRATED_BY")
    paid = any(v.dst_id.startswith("elevenlabs:") for v in voices)
    tts_usd = round(chars / 1000 * ELEVENLABS_USD_PER_1K_CHARS, 2) if paid else 0.0
    clips = [e.dst_id for e in made if (e.props or {}).get("kind") == "video clips"
             and e.dst_id != "local"]
    llm = [e.dst_id for e in made if not e.dst_id.startswith("extractive@")
           and e.dst_id not in clips and (e.props or {}).get("kind") != "video clips"]
    unknown = bool(llm or clips)
    return {"tts_chars": chars, "tts_usd": tts_usd, "tts_provider":
            "elevenlabs" if paid else "offline", "llm_models": llm,
            "llm_usd": None if llm else 0.0, "cloud_video_backends": clips,
            "cloud_video_usd": None if clips else 0.0,
            "total_usd": None if unknown else tts_usd, "complete": not unknown}


def _totals(metrics: dict[str, dict[str, Any]]) -> dict[str, float]:
    return {f: sum(m[f] or 0 for m in metrics.values()) for f in platform_metrics.FIELDS}


async def video(settings: Settings, owner: str, artifact_id: str, *,
                refresh_first: bool = False) -> dict[str, Any]:
    """One artifact: its publications, the latest figures per platform, their history,
    totals and the generation cost."""
    notes = (await refresh(settings, owner, artifact_id))["errors"] if refresh_first else []
    async with db.session(settings) as s:
        art = await artifacts_db.get_artifact(s, artifact_id, owner)
        latest = (await platform_metrics.latest(s, [art.id])).get(art.id, {})
        hist = await platform_metrics.history(s, art.id)
    pubs = [p for _, p in await _published(settings, owner, art.id)]
    return {"artifact_id": art.id, "title": art.title, "published": pubs, "metrics": latest,
            "totals": _totals(latest), "history": hist, "cost": await cost(settings, art),
            "notes": notes}


async def dashboard(settings: Settings, owner: str, *, refresh_first: bool = False
                    ) -> dict[str, Any]:
    """Every published artifact of the owner with its latest figures and cost, plus totals."""
    notes = (await refresh(settings, owner))["errors"] if refresh_first else []
    items: dict[str, dict[str, Any]] = {}
    for art, pub in await _published(settings, owner, None):
        row = items.setdefault(art.id, {"artifact_id": art.id, "title": art.title,
                                        "published": [], "art": art})
        row["published"].append(pub)
    async with db.session(settings) as s:
        latest = await platform_metrics.latest(s, list(items))
    rows = []
    for aid, row in items.items():
        art = row.pop("art")
        m = latest.get(aid, {})
        rows.append({**row, "metrics": m, "totals": _totals(m), "cost": await cost(settings,
                                                                                   art)})
    rows.sort(key=lambda r: -r["totals"]["views"])
    return {"videos": rows, "totals": {f: sum(r["totals"][f] for r in rows)
                                       for f in platform_metrics.FIELDS}, "notes": notes}
