"""The web studio's server side: sign-in cookie, its CSRF guard, pages and offline docs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server import auth
from server.app import create_app
from server.routes_web import WEBUI
from storage import db
from storage.settings import Settings, load_settings


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, str]]]:
    settings = load_settings(home=tmp_path_factory.mktemp("web-home"), auth="keys",
                             _env_file=None)

    async def keys() -> dict[str, str]:
        await db.migrate(settings)
        out = {who: (await auth.create_key(settings, who))[1] for who in ("ann", "ben")}
        await db.dispose(settings)
        return out

    yield settings, asyncio.run(keys())


@pytest.fixture
def client(home: tuple[Settings, dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(home[0])) as c:
        yield c


def sign_in(client: TestClient, key: str) -> None:
    resp = client.post("/api/session", json={"key": key})
    assert resp.status_code == 200, resp.text


def test_sign_in_sets_an_http_only_strict_cookie(client: TestClient,
                                                 home: tuple[Settings, dict[str, str]]) -> None:
    assert client.post("/api/session", json={"key": "lib_wrong"}).status_code == 401
    assert client.get("/api/session").status_code == 401
    resp = client.post("/api/session", json={"key": home[1]["ann"]})
    assert resp.json() == {"owner": "ann", "admin": True, "auth": "keys"}
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{auth.COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Secure" not in cookie  # plain http here
    assert client.get("/api/session").json()["owner"] == "ann"
    assert client.get("/api/content").status_code == 200
    assert client.delete("/api/session").status_code == 204
    assert client.get("/api/content").status_code == 401


def test_secure_cookie_behind_https(client: TestClient,
                                    home: tuple[Settings, dict[str, str]]) -> None:
    resp = client.post("/api/session", json={"key": home[1]["ann"]},
                       headers={"x-forwarded-proto": "https"})
    assert "Secure" in resp.headers["set-cookie"]


def test_cookie_writes_need_the_csrf_header(client: TestClient,
                                            home: tuple[Settings, dict[str, str]]) -> None:
    sign_in(client, home[1]["ann"])
    body = {"url": "http://127.0.0.1/private"}
    refused = client.post("/api/content/import", json=body)
    assert refused.status_code == 403 and auth.CSRF_HEADER in refused.json()["detail"]
    with_header = client.post("/api/content/import", json=body, headers={auth.CSRF_HEADER: "1"})
    assert with_header.status_code == 400, with_header.text  # past auth: the SSRF guard answers
    # a bearer key needs no CSRF header (a cross-site page cannot send it)
    client.cookies.clear()
    bearer = client.post("/api/content/import", json=body,
                         headers={"Authorization": f"Bearer {home[1]['ben']}"})
    assert bearer.status_code == 400


def test_each_cookie_is_its_owner(client: TestClient,
                                  home: tuple[Settings, dict[str, str]]) -> None:
    sign_in(client, home[1]["ann"])
    job = client.post("/api/content/import", json={"url": "https://example.org/paper.pdf"},
                      headers={auth.CSRF_HEADER: "1"})
    assert job.status_code == 202, job.text
    job_id = job.json()["job_id"]
    assert any(j["job_id"] == job_id for j in client.get("/api/jobs").json())
    client.delete(f"/api/jobs/{job_id}", headers={auth.CSRF_HEADER: "1"})
    sign_in(client, home[1]["ben"])
    assert client.get("/api/session").json()["owner"] == "ben"
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert all(j["job_id"] != job_id for j in client.get("/api/jobs").json())


def test_pages_are_served_with_a_strict_csp(client: TestClient) -> None:
    for path in ("/", "/studio", "/jobs", "/jobs/x", "/sources/x", "/player/x", "/analytics",
                 "/signin"):
        resp = client.get(path)
        assert resp.status_code == 200 and "text/html" in resp.headers["content-type"], path
        assert "default-src 'self'" in resp.headers["content-security-policy"]
    html = client.get("/").text
    for ref in re.findall(r'(?:src|href)="(/ui/[^"]+)"', html):
        assert client.get(ref).status_code == 200, ref
    for name in ("app.js", "library.js", "studio.js", "player.js", "jobs.js", "source.js",
                 "form.js", "analytics.js"):
        resp = client.get(f"/ui/{name}", headers={"accept-encoding": "gzip"})
        assert resp.status_code == 200 and resp.headers["content-encoding"] == "gzip", name
    # only static assets are compressed: API answers, downloads and streams pass untouched
    assert "content-encoding" not in client.get("/api/health").headers


def test_nothing_is_loaded_from_another_host(client: TestClient) -> None:
    remote = re.compile(r"""(?:src|href|url|import)\s*[=(]?\s*["']?(?:https?:)?//""")
    for path in [WEBUI / "index.html", *sorted((WEBUI / "static").iterdir())]:
        assert not remote.search(Path(path).read_text()), path
    docs = client.get("/docs").text
    refs = re.findall(r'(?:src|href)="([^"]+)"', docs)
    assert refs and all(r.startswith("/") for r in refs), refs
    for ref in refs:
        assert client.get(ref).status_code == 200, ref
    assert "swagger-ui" in client.get("/static-offline-docs/swagger-ui-bundle.js").text[:2000]


def test_export_schemas_come_from_the_request_models(
        client: TestClient, home: tuple[Settings, dict[str, str]]) -> None:
    from agents.requests import PodcastParams

    sign_in(client, home[1]["ann"])
    kinds = {k["format"]: k for k in client.get("/api/exports").json()}
    assert {"podcast", "video", "report"} <= set(kinds)
    assert kinds["podcast"]["parameters"] == PodcastParams.model_json_schema()
    assert kinds["podcast"]["stages"]
    from agents.publish_requests import PublishParams

    publish = client.get("/api/publish/options").json()
    assert publish["platforms"] == ["youtube", "tiktok", "instagram"]
    assert publish["parameters"] == PublishParams.model_json_schema()
    bad = client.post("/api/content/estimate", headers={auth.CSRF_HEADER: "1"}, json={
        "format": "podcast", "source_ids": ["x"], "parameters": {"minutes": 0}})
    assert bad.status_code == 422
    gone = client.post("/api/content/estimate", headers={auth.CSRF_HEADER: "1"}, json={
        "format": "podcast", "source_ids": ["not-mine"], "parameters": {"minutes": 1}})
    assert gone.status_code == 404
