"""The web studio: its pages (one HTML shell, ES modules and a stylesheet from `server/webui`,
no build step, nothing from a CDN) and its sign-in, which keeps the API key in an HttpOnly,
SameSite=Strict cookie (`server.auth` reads it; Secure when the request came over https)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from server import auth, limits
from server.auth import SettingsDep

WEBUI = Path(__file__).resolve().parent / "webui"
PAGES = ("/", "/studio", "/jobs", "/jobs/{job_id}", "/sources/{source_id}",
         "/player/{artifact_id}", "/analytics", "/signin")
SESSION_DAYS = 7
ASSETS = ("/ui/", "/static-offline-docs/")  # the studio's and the API docs' scripts and styles
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
       "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")

router = APIRouter()


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=200, description="an API key (lib_...)")


class SessionOut(BaseModel):
    owner: str
    admin: bool
    auth: str  # "keys", or "none" in single-user embedded mode (no sign-in needed)


def _https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


@router.post("/api/session", response_model=SessionOut, tags=["session"], responses={
    401: {"description": "invalid or revoked API key"},
    429: {"description": "too many bad keys from this client"}})
async def sign_in(body: SignIn, request: Request, response: Response,
                  settings: SettingsDep) -> SessionOut:
    """Sign a browser in: checks the key and keeps it in an HttpOnly, SameSite=Strict cookie."""
    if settings.auth == "none":
        return SessionOut(owner=auth.LOCAL_OWNER, admin=True, auth="none")
    client = request.client.host if request.client else "unknown"
    await limits.check_auth_failures(settings, client)
    caller = await auth.caller_for(settings, body.key.strip())
    if caller is None:
        await limits.record_auth_failure(settings, client)
        raise HTTPException(401, "invalid or revoked API key")
    response.set_cookie(auth.COOKIE, body.key.strip(), max_age=SESSION_DAYS * 86400, path="/",
                        httponly=True, samesite="strict", secure=_https(request))
    return SessionOut(owner=caller.owner, admin=caller.admin, auth="keys")


@router.get("/api/session", response_model=SessionOut, tags=["session"],
            responses={401: {"description": "not signed in"}})
async def whoami(request: Request, settings: SettingsDep) -> SessionOut:
    """Who this browser (or bearer key) is signed in as."""
    caller = await auth.request_caller(request)
    return SessionOut(owner=caller.owner, admin=caller.admin, auth=settings.auth)


@router.delete("/api/session", status_code=204, tags=["session"])
async def sign_out(request: Request) -> Response:
    """Sign the browser out (clears the cookie)."""
    response = Response(status_code=204)
    response.delete_cookie(auth.COOKIE, path="/", httponly=True, samesite="strict",
                           secure=_https(request))
    return response


async def page() -> FileResponse:
    """The studio's HTML shell; the module it loads draws the page for the path."""
    return FileResponse(WEBUI / "index.html", media_type="text/html", headers={
        "content-security-policy": CSP, "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin", "cache-control": "no-cache"})


for _path in PAGES:
    router.add_api_route(_path, page, methods=["GET"], include_in_schema=False)


def static_files() -> StaticFiles:
    """The studio's scripts and stylesheet, served at /ui."""
    return StaticFiles(directory=WEBUI / "static")


class CompressAssets:
    """Gzip the studio's and the API docs' static files (Swagger UI's bundle is 1.5 MB plain);
    every other response passes untouched (range requests, streams, downloads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.gzip = app, GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(ASSETS):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
