"""Publishing a video artifact: what may be published (licences, credentials), what it says,
the owner's platform tokens (encrypted, refreshed), and the PUBLISHED_TO edge it leaves.

Every refusal is one line naming its reason: the source whose licence forbids it, or the
setting / command that supplies the missing credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agents import publish_text
from agents.brand import avoided
from agents.publish_requests import PublishRequest
from services import brand
from services.lineage import attribution, check_commercial_use, source_licences
from storage import artifacts as artifacts_db
from storage import db, edges, tokens
from storage.errors import BadInput, ConfigError, Forbidden
from storage.models import Artifact, Source
from storage.objects import LocalObjects, objects
from storage.settings import Settings
from tools import oauth
from tools.licences import get_licence
from tools.platform_http import Auth

YOUTUBE_SCOPES = ("https://www.googleapis.com/auth/youtube.upload "
                  "https://www.googleapis.com/auth/youtube "
                  "https://www.googleapis.com/auth/yt-analytics.readonly")
TIKTOK_SCOPES = "user.info.basic,video.publish,video.upload,video.list"
OAUTH_PLATFORMS = ("youtube", "tiktok")
REFRESH_EARLY_S = 60


def client_settings(settings: Settings, platform: str) -> tuple[str, str]:
    """(client id, client secret) of the platform app; ConfigError naming the missing one."""
    if platform == "youtube":
        cid, secret, names = (settings.youtube_client_id, settings.youtube_client_secret,
                              ("LIBRARIAN_YOUTUBE_CLIENT_ID", "LIBRARIAN_YOUTUBE_CLIENT_SECRET"))
    elif platform == "tiktok":
        cid, secret, names = (settings.tiktok_client_key, settings.tiktok_client_secret,
                              ("LIBRARIAN_TIKTOK_CLIENT_KEY", "LIBRARIAN_TIKTOK_CLIENT_SECRET"))
    else:
        raise BadInput(f"{platform} has no OAuth sign-in here (known: youtube, tiktok)")
    if not cid:
        raise ConfigError(f"{platform} publishing needs {names[0]} (the app's client id)")
    if secret is None:
        raise ConfigError(f"{platform} publishing needs {names[1]}")
    return cid, secret.get_secret_value()


async def _stored(settings: Settings, owner: str, platform: str) -> dict[str, Any]:
    async with db.session(settings) as s:
        found = await tokens.load(s, settings, owner, platform)
    if not found or not found.get("refresh_token"):
        raise ConfigError(f"no {platform} authorisation for {owner}: run "
                          f"`librarian publish auth {platform}` first")
    return found


async def _save(settings: Settings, owner: str, platform: str, data: dict[str, Any]) -> None:
    async with db.session(settings) as s:
        await tokens.save(s, settings, owner, platform, data)


async def refresh(settings: Settings, owner: str, platform: str) -> str:
    """A new access token from the stored refresh token (stored in turn); returns it."""
    cid, secret = client_settings(settings, platform)
    old = await _stored(settings, owner, platform)
    if platform == "youtube":
        url, form = settings.google_token_url, {"client_id": cid, "client_secret": secret}
    else:
        url = f"{settings.tiktok_api_url}/v2/oauth/token/"
        form = {"client_key": cid, "client_secret": secret}
    new = await oauth.token_request(url, {**form, "grant_type": "refresh_token",
                                          "refresh_token": old["refresh_token"]}, platform)
    await _save(settings, owner, platform, {**old, **new,
                                            "refresh_token": new.get("refresh_token")
                                            or old["refresh_token"]})
    return str(new["access_token"])


async def auth_for(settings: Settings, owner: str, platform: str) -> Auth:
    """The owner's access token for the platform, refreshed when (nearly) expired or on 401."""
    client_settings(settings, platform)
    stored = await _stored(settings, owner, platform)
    token = str(stored.get("access_token") or "")
    if not token or float(stored.get("expires_at") or 0) < time.time() + REFRESH_EARLY_S:
        token = await refresh(settings, owner, platform)

    async def again() -> str:
        return await refresh(settings, owner, platform)

    return Auth(token, again)


async def authorise(settings: Settings, owner: str, platform: str,
                    show: Callable[[str], Any], timeout_s: float = 300.0) -> dict[str, Any]:
    """The installed-app flow: consent in a browser, the code caught on a loopback redirect,
    exchanged (with PKCE) for tokens stored encrypted. Returns what was granted."""
    cid, secret = client_settings(settings, platform)
    tokens.cipher(settings)  # no key: refuse before the user signs in for nothing
    verifier, challenge = oauth.pkce()

    def url(redirect: str, state: str) -> str:
        common = {"redirect_uri": redirect, "response_type": "code", "state": state,
                  "code_challenge": challenge, "code_challenge_method": "S256"}
        if platform == "youtube":
            return oauth.authorize_url(settings.google_auth_url, {
                "client_id": cid, "scope": YOUTUBE_SCOPES, "access_type": "offline",
                "prompt": "consent", **common})
        return oauth.authorize_url(settings.tiktok_auth_url, {
            "client_key": cid, "scope": TIKTOK_SCOPES, **common})

    code, redirect = await oauth.loopback_code(url, show, timeout_s)
    if platform == "youtube":
        tok_url, form = settings.google_token_url, {"client_id": cid}
    else:
        tok_url, form = f"{settings.tiktok_api_url}/v2/oauth/token/", {"client_key": cid}
    got = await oauth.token_request(tok_url, {
        **form, "client_secret": secret, "code": code, "code_verifier": verifier,
        "grant_type": "authorization_code", "redirect_uri": redirect}, platform)
    if not got.get("refresh_token"):
        raise Forbidden(f"{platform} granted no refresh token; revoke the app's access and "
                        "run the command again")
    await _save(settings, owner, platform, got)
    return {"platform": platform, "owner": owner, "scope": got.get("scope"),
            "open_id": got.get("open_id")}


# --- what may be published, and what it says ------------------------------------------------

async def artifact_of(settings: Settings, owner: str, artifact_id: str) -> Artifact:
    async with db.session(settings) as s:
        art = await artifacts_db.get_artifact(s, artifact_id, owner)
    if art.kind != "video" or not isinstance((art.files or {}).get("video"), str):
        raise BadInput(f"artifact {artifact_id} is a {art.kind}, not a video: only videos "
                       "are published")
    return art


async def source_ids(settings: Settings, art: Artifact) -> list[str]:
    async with db.session(settings) as s:
        ids = [str(i) for i in (art.recipe or {}).get("sources", [])]
        ids += [e.dst_id for e in await edges.edges_from(s, "artifact", [art.id],
                                                         "GENERATED_FROM")]
    return list(dict.fromkeys(ids))


def _named(b: dict[str, Any]) -> str:
    return f"{b['title'] or b['source_id']} ({b['source_id']}, {b['licence']})"


async def check_licences(settings: Settings, owner: str, req: PublishRequest,
                         ids: list[str]) -> dict[str, Any]:
    """Forbidden, naming the source, when its licence forbids this publication."""
    verdict = await source_licences(settings, ids)
    if verdict["blocking_derivatives"]:
        raise Forbidden("publishing refused: no derivatives may be shared of "
                        + "; ".join(_named(b) for b in verdict["blocking_derivatives"]))
    if req.commercial:
        try:
            await check_commercial_use(settings, ids)
        except Forbidden as exc:
            raise Forbidden(str(exc).replace("commercial export refused",
                                             "publishing to a commercial channel refused")
                            ) from None
    if not req.credits:
        need = [s for s in verdict["sources"]
                if get_licence(s["licence"]).attribution_required is not False]
        if need:
            raise Forbidden("publishing without credits refused: the licence of "
                            + "; ".join(_named(b) for b in need)
                            + " requires attribution (leave credits on)")
    return verdict


def check_share_alike(verdict: dict[str, Any], text: str) -> None:
    """A share-alike source's licence must be named in what is published."""
    missing = [s for s in verdict["sources"]
               if get_licence(s["licence"]).share_alike_required
               and s["licence"] not in text and get_licence(s["licence"]).name not in text]
    if missing:
        raise Forbidden("publishing refused: the share-alike licence of "
                        + "; ".join(_named(b) for b in missing)
                        + " must be stated in the description (it did not fit or credits "
                          "are off)")


async def _links(settings: Settings, ids: list[str]) -> dict[str, str]:
    async with db.session(settings) as s:
        out = {}
        for sid in ids:
            src = await s.get(Source, sid)
            if src is not None and (src.doi or src.url):
                out[sid] = f"https://doi.org/{src.doi}" if src.doi else str(src.url)
    return out


async def prepare(settings: Settings, owner: str, req: PublishRequest) -> dict[str, Any]:
    """Check the request and write the publication's text; refused before any upload."""
    art = await artifact_of(settings, owner, req.artifact_id)
    ids = await source_ids(settings, art)
    verdict = await check_licences(settings, owner, req, ids)
    attr = await attribution(settings, art.id, owner=owner)
    links = await _links(settings, ids)
    for s in attr["sources"]:
        s["link"] = links.get(s["source_id"])
    info = {"title": art.title, "meta": art.meta or {}, "duration_s": art.duration_s,
            "recipe": art.recipe or {}}
    profile = await brand.get(settings, owner)
    words = avoided(profile, f"{req.title or art.title} {req.intro or ''}")
    if words:
        raise Forbidden(f"publishing refused by your brand voice: the title or intro uses "
                        f"{', '.join(repr(w) for w in words)} (a word to avoid)")
    make = publish_text.for_youtube if req.platform == "youtube" else publish_text.for_tiktok
    pub = make(info, attr, req, profile)  # a caption for TikTok and Instagram (by hand)
    check_share_alike(verdict, pub.description)
    return {"title": pub.title, "description": pub.description, "tags": pub.tags,
            "is_short": pub.is_short, "video_key": art.files["video"],
            "sources": ids, "licences": verdict["licences"]}


async def local_file(settings: Settings, key: str, job_id: str) -> Path:
    """A readable path of the stored video (a copy under the cache for remote stores)."""
    store = objects(settings)
    if isinstance(store, LocalObjects):
        return store.path(key)
    dest = settings.cache_dir / "publish" / job_id / Path(key).name
    if not dest.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        await store.get_file(key, dest)
    return dest


async def record(settings: Settings, artifact_id: str, platform: str, video_id: str,
                 url: str | None, props: dict[str, Any]) -> dict[str, Any]:
    """The PUBLISHED_TO edge: artifact -> publication `platform:id`, with the URL and time."""
    at = datetime.now(UTC).isoformat()
    data = {"platform": platform, "id": video_id, "url": url, "published_at": at, **props}
    async with db.session(settings) as s:
        await edges.add_edge(s, ("artifact", artifact_id), "PUBLISHED_TO",
                             ("publication", f"{platform}:{video_id}"), data)
    return data


async def publications(settings: Settings, artifact_ids: list[str]) -> list[dict[str, Any]]:
    """Every PUBLISHED_TO edge of these artifacts: platform, id, url, time."""
    async with db.session(settings) as s:
        found = await edges.edges_from(s, "artifact", artifact_ids, "PUBLISHED_TO")
    return [{"artifact_id": e.src_id, **(e.props or {})} for e in found]
