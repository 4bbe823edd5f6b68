"""Tenancy and abuse: admin scope, `?token=` only on streams and never logged, rate limits,
failed-auth throttling and the daily export quota (in-process counters and Redis)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.jobkit import REDIS_URL, service_up
from tests.robustness.conftest import Library, make_library


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """One library (the in-process runner is one per process); each test calls from an address
    of its own, with keys of its own, so the counters of one test do not touch the next."""
    with pytest.MonkeyPatch.context() as mp:
        yield from make_library(tmp_path_factory.mktemp("abuse"), mp, rate_limit="30/minute",
                                auth_fail_limit="5/minute",
                                export_quota={"steps": 2, "podcast": 0})


_addresses = iter(range(10, 250))


def client(lib: Library, key: str | None = None) -> Any:
    """A client from a fresh address (no lifespan: the library's app is already running).
    Its requests run on an event loop of their own, so jobs are submitted with `lib.client`
    (the in-process runner's queue lives on the app's loop)."""
    from fastapi.testclient import TestClient

    c = TestClient(lib.client.app, client=(f"10.9.9.{next(_addresses)}", 4000))
    if key:
        c.headers["Authorization"] = f"Bearer {key}"
    return c


def new_key(lib: Library, name: str, admin: bool = False) -> str:
    resp = client(lib, lib.keys["admin"]).post("/api/keys", json={"name": name, "admin": admin})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["key"])


def _as(lib: Library, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {lib.keys[who]}"}


def test_plugin_switches_and_keys_are_admin_only(strict: Library) -> None:
    lib = strict
    c = client(lib, lib.keys["user"])
    assert c.post("/api/plugins/pdf/disable").status_code == 403
    assert "admin" in c.post("/api/plugins/pdf/disable").json()["detail"]
    assert c.get("/api/keys").status_code == 403
    assert c.post("/api/keys", json={"name": "x"}).status_code == 403
    assert c.get("/api/plugins/import").status_code == 200  # listing is for everyone
    admin = _as(lib, "admin")  # the first key of the library
    resp = c.post("/api/plugins/pdf/disable", headers=admin)
    assert resp.status_code == 200 and resp.json()["enabled"] is False
    assert c.post("/api/plugins/pdf/enable", headers=admin).json()["enabled"] is True
    made = c.post("/api/keys", json={"name": "carol"}, headers=admin)
    assert made.status_code == 201 and made.json()["admin"] is False
    carol = {"Authorization": f"Bearer {made.json()['key']}"}
    assert c.get("/api/content", headers=carol).status_code == 200
    assert c.post("/api/plugins/pdf/disable", headers=carol).status_code == 403
    listed = c.get("/api/keys", headers=admin).json()
    names = {k["name"]: k["admin"] for k in listed}
    assert names["admin"] is True and names["user"] is False and names["carol"] is False
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert c.delete("/api/keys/carol", headers=admin).status_code == 200
    assert c.post("/api/keys", json={"name": "y", "bogus": 1}, headers=admin).status_code == 422


def test_query_token_only_on_streams_and_redacted(strict: Library) -> None:
    from server.limits import RedactTokens, redact

    lib = strict
    key = new_key(lib, "streamer")
    bare = client(lib)
    resp = bare.get(f"/api/content?token={key}")
    assert resp.status_code == 401 and "only on" in resp.json()["detail"]
    job = lib.client.post("/api/content/import", files={"file": ("q.txt", b"Query tokens.")},
                          headers={"Authorization": f"Bearer {key}"})
    job_id = job.json()["job_id"]
    wait(lib, key, job_id)
    with bare.stream("GET", f"/api/jobs/{job_id}/events?token={key}") as stream:
        assert stream.status_code == 200
    with bare.websocket_connect(f"/ws/jobs/{job_id}?token={key}") as ws:
        assert ws.receive_json()["job_id"] == job_id
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", f"/api/jobs/x/events?token={key}&a=1",
                                "1.1", 200), None)
    RedactTokens().filter(record)
    assert key not in record.getMessage() and "token=[redacted]&a=1" in record.getMessage()
    assert key not in redact(f"/ws/jobs/1?token={key}")
    assert any(isinstance(f, RedactTokens) for f in logging.getLogger("uvicorn.access").filters)


def test_rate_limit_answers_429_with_retry_after(strict: Library) -> None:
    c = client(strict, new_key(strict, "busy"))
    codes = [c.get("/api/content").status_code for _ in range(35)]
    assert codes[:30] == [200] * 30 and set(codes[30:]) == {429}
    resp = c.get("/api/content")
    assert int(resp.headers["Retry-After"]) >= 1 and "LIBRARIAN_RATE_LIMIT" in resp.text
    # another key has its own budget; health is never limited
    assert client(strict, new_key(strict, "calm")).get("/api/content").status_code == 200
    assert all(c.get("/api/health").status_code == 200 for _ in range(40))


def test_failed_auth_is_throttled(strict: Library) -> None:
    c = client(strict)
    codes = [c.get("/api/content", headers={"Authorization": f"Bearer bad{i}"}).status_code
             for i in range(100)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    resp = c.get("/api/content", headers={"Authorization": "Bearer bad"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    # the same address is refused even with a good key until the window passes
    assert c.get("/api/content", headers=_as(strict, "user")).status_code == 429
    # other addresses are not
    assert client(strict, strict.keys["user"]).get("/api/content").status_code == 200


def wait(lib: Library, key: str, job_id: str) -> dict[str, Any]:
    """Poll the database, not the API (polling would spend the key's small rate budget)."""
    import json
    import time

    for _ in range(400):
        status, error, result = lib.rows("select status, error, result from jobs where id = ?",
                                         job_id)[0]
        if status in ("completed", "failed", "cancelled"):
            return {"status": status, "error": error, "result": json.loads(result or "{}")}
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} is still {status}")


def _source(lib: Library, key: str) -> str:
    job = lib.client.post("/api/content/import", files={"file": ("s.txt", b"Quota source.")},
                          headers={"Authorization": f"Bearer {key}"})
    done = wait(lib, key, job.json()["job_id"])
    return str(done["result"]["source_id"])


def test_daily_export_quota(strict: Library, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    from tests import jobgraphs

    site = jobgraphs.register(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    import importlib

    importlib.invalidate_caches()
    from graphs import registry

    if "steps" not in registry.export_formats():
        pytest.skip("the test-only 'steps' exporter is not registered in this process")
    key = new_key(strict, "maker")
    c = strict.client
    c.headers["Authorization"] = f"Bearer {key}"
    sid = _source(strict, key)
    body = {"source_ids": [sid], "format": "steps", "parameters": {"marker": str(tmp_path)}}
    codes = [c.post("/api/content/export", json=body).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    resp = c.post("/api/content/export", json=body)
    assert "LIBRARIAN_EXPORT_QUOTA" in resp.text and int(resp.headers["Retry-After"]) > 3600
    off = c.post("/api/content/export", json={**body, "format": "podcast", "parameters": {}})
    assert off.status_code == 403 and "switched off" in off.text
    # quotas are per owner
    other_key = new_key(strict, "other")
    other_sid = _source(strict, other_key)
    other = c.post("/api/content/export", json={**body, "source_ids": [other_sid]},
                   headers={"Authorization": f"Bearer {other_key}"})
    assert other.status_code == 202, other.text


@pytest.mark.skipif(not service_up(6379), reason="Redis is not running on 127.0.0.1:6379")
async def test_counters_shared_through_redis(tmp_path: Path) -> None:
    import uuid

    from limits import parse_many

    from server import limits
    from storage.settings import load_settings

    prefix = f"lbtest-{uuid.uuid4().hex[:8]}"
    one = load_settings(home=tmp_path / "a", redis_url=REDIS_URL, redis_prefix=prefix,
                        _env_file=None)
    two = load_settings(home=tmp_path / "b", redis_url=REDIS_URL, redis_prefix=prefix,
                        _env_file=None)
    items = parse_many("3/minute")
    assert [await limits.hit(one, items, "k") for _ in range(3)] == [None] * 3
    wait = await limits.hit(two, items, "k")  # another server, same counters
    assert wait is not None and 1 <= wait <= 60
    down = load_settings(home=tmp_path / "c", redis_url="redis://127.0.0.1:1/0",
                         _env_file=None)
    assert await limits.hit(down, items, "k") is None  # store down: let requests through
