"""`librarian publish ARTIFACT_ID --to youtube|tiktok|instagram`, and its actions:
`publish auth PLATFORM` (the OAuth sign-in), `publish keygen` (a LIBRARIAN_TOKEN_KEY),
`publish smoke PLATFORM` (an opt-in check of real credentials); `librarian trends`,
`librarian analytics [ARTIFACT_ID]`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from server.cli_common import (
    JsonOpt,
    call,
    console,
    emit,
    emit_rows,
    fail,
    follow,
    out,
    settings,
    table,
)

app = typer.Typer(rich_markup_mode=None)
ACTIONS = ("auth", "keygen", "smoke")


def _local(fn: Any) -> Any:
    """Run an action on this machine's library (tokens are stored where jobs run)."""
    from storage.errors import LibrarianError

    cfg = settings()
    if cfg.api_url:
        fail("this action runs where the library is (unset LIBRARIAN_API_URL, or run it on "
             "the server)", 2)
    try:
        return asyncio.run(fn(cfg))
    except LibrarianError as exc:
        fail(str(exc))


def _auth(platform: str) -> dict[str, Any]:
    from services import publishing

    def show(url: str) -> None:
        import webbrowser

        console.print(f"Open this address to authorise Librarian on {platform}:\n{url}",
                      markup=False)
        webbrowser.open(url)

    return _local(lambda cfg: publishing.authorise(cfg, "local", platform, show))  # type: ignore[no-any-return]


async def _smoke(cfg: Any, platform: str) -> dict[str, Any]:
    """One harmless authenticated call with the stored tokens (no upload)."""
    from services import publishing
    from tools import platform_http, tiktok, youtube

    auth = await publishing.auth_for(cfg, "local", platform)
    async with platform_http.client() as http:
        if platform == "youtube":
            got = await youtube.my_channel(http, cfg.youtube_api_url, auth)
            return {"platform": platform, "channel": got.get("snippet", {}).get("title")}
        got = await tiktok.creator_info(http, cfg.tiktok_api_url, auth)
        return {"platform": platform, "creator": got.get("creator_username"),
                "privacy_levels": got.get("privacy_level_options")}


def _action(action: str, platform: str | None, as_json: bool) -> None:
    if action == "keygen":
        from storage.tokens import new_key

        out.print(new_key(), markup=False)
        return
    if platform not in ("youtube", "tiktok"):
        fail(f"`librarian publish {action}` needs a platform: youtube or tiktok", 2)
    res = _auth(platform) if action == "auth" else _local(lambda c: _smoke(c, platform))
    if as_json:
        emit(res)
    else:
        out.print(", ".join(f"{k}: {v}" for k, v in res.items()), markup=False)


@app.command("publish")
def publish_cmd(
    target: Annotated[str, typer.Argument(
        help="A video artifact id, or an action: auth PLATFORM, keygen, smoke PLATFORM.")],
    platform_arg: Annotated[str | None, typer.Argument(
        metavar="[PLATFORM]", help="The platform of `auth` / `smoke`.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="youtube, tiktok or instagram.")] = None,
    privacy: Annotated[str | None, typer.Option(
        help="private (default), unlisted (YouTube), friends / followers (TikTok), public.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title (default: the artifact's).")] = None,
    intro: Annotated[str | None, typer.Option(help="Your text atop the description.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeat).")] = None,
    playlist: Annotated[str | None, typer.Option(help="YouTube playlist id.")] = None,
    commercial: Annotated[bool, typer.Option(
        help="A commercial (monetised) channel: every source must allow commercial use.")
    ] = False,
    credits: Annotated[bool, typer.Option(help="Attribution and source links.")] = True,
    wait: Annotated[bool, typer.Option(help="Wait for the job to finish.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Publish a video artifact with the AI-content disclosure and credits (a job: retry and
    resume with `librarian jobs`)."""
    if target in ACTIONS:
        _action(target, platform_arg, as_json)
        return
    if to is None:
        fail("say where to publish: --to youtube, --to tiktok or --to instagram", 2)
    params = {"privacy": privacy, "title": title, "intro": intro, "tags": tag,
              "playlist": playlist, "commercial": commercial or None,
              "credits": None if credits else False}
    body = {k: v for k, v in params.items() if v is not None}

    async def go(client: Any) -> dict[str, Any]:
        job = await client.publish(to, target, body)
        return await follow(client, job, f"publish {to}", as_json) if wait else job  # type: ignore[no-any-return]

    job = call(go)
    if as_json:
        emit(job)
    elif job["status"] == "failed":
        fail(job["error"] or "publishing failed")
    elif job["status"] == "completed":
        res = job["result"]
        if res.get("manual"):
            out.print(f"download: {res['download_url']}\ncaption:\n{res['caption']}",
                      markup=False)
        else:
            out.print(f"published to {res['platform']}: {res.get('url') or res.get('id')}",
                      markup=False)
    else:
        out.print(f"job {job['job_id']}: {job['status']}", markup=False)


@app.command("trends")
def trends_cmd(
    region: Annotated[str | None, typer.Option(help="ISO region code [default: US].")] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Only trends about this niche.")
                     ] = None,
    category: Annotated[str | None, typer.Option(help="YouTube category id of the chart.")
                        ] = None,
    limit: Annotated[int | None, typer.Option(help="How many [default: 20].")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch the feeds now.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Trending topics (Google Trends, YouTube's chart) ranked by virality and by what your
    library supports; `librarian make video --trend ID` makes a short from a supported one."""
    from agents.publish_requests import TrendsRequest, validated
    from storage.errors import BadInput

    try:
        req = validated(TrendsRequest, {"region": region, "topic": topic, "category": category,
                                        "limit": limit, "refresh": refresh or None})
    except BadInput as exc:
        fail(str(exc), 2)
    res = call(lambda c: c.trends(req))
    if as_json:
        emit_rows(res["trends"])
        return
    table(["id", "topic", "feed", "volume", "virality", "support", "score", "sources"],
          [[t["trend_id"], t["topic"][:50], t["source"], f"{t['volume']:,.0f}",
            f"{t['virality']:.2f}", f"{t['support']:.2f}" if t["supported"] else "unsupported",
            f"{t['score']:.2f}", len(t["sources"])] for t in res["trends"]])
    for note in res["notes"]:
        console.print(f"note: {note}", markup=False)


@app.command("analytics")
def analytics_cmd(
    artifact_id: Annotated[str | None, typer.Argument(
        help="One published video (default: the dashboard of all).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Read the platforms first.")
                       ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Views, likes, comments, shares and watch time per platform, with generation cost."""
    res = call(lambda c: c.analytics(artifact_id, refresh=refresh))
    if as_json:
        emit(res)
        return
    rows = [res] if artifact_id else res["videos"]
    table(["artifact", "title", "platform", "views", "likes", "comments", "shares",
           "watch min", "cost USD"],
          [[r["artifact_id"], r["title"][:40], p, m["views"], m["likes"], m["comments"],
            m["shares"], m["watch_minutes"],
            r["cost"]["total_usd"] if r["cost"]["complete"] else "not metered"]
           for r in rows for p, m in (r["metrics"].items() or [("-", dict.fromkeys(
               ("views", "likes", "comments", "shares", "watch_minutes")))])])
    for note in res.get("notes") or []:
        console.print(f"note: {note}", markup=False)
