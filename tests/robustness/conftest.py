"""A library on the embedded stack (SQLite, local objects, local Qdrant, in-process jobs) served
in-process, with lowered limits so every bomb is small to build, and tools to prove that a refused
or failed input left nothing behind."""

from __future__ import annotations

import asyncio
import http.server
import socketserver
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storage.settings import Settings, get_settings, load_settings
from tests.conftest import clean_env

TERMINAL = {"completed", "failed", "cancelled"}
LIMITS: dict[str, Any] = {
    "max_upload_bytes": 8 * 2**20, "max_json_bytes": 64 * 1024, "max_html_bytes": 2 * 2**20,
    "max_text_chars": 1_000_000, "max_decompressed_bytes": 40 * 2**20,
    "max_xml_elements": 200_000, "max_pdf_pages": 40, "max_chunks_per_source": 300,
    "max_chunk_chars": 5_000, "max_download_bytes": 4 * 2**20, "rate_limit": "",
    "auth_fail_limit": "", "fetch_allow_hosts": ["127.0.0.1"], "fetch_timeout_s": 20.0,
}


@dataclass
class Library:
    settings: Settings
    client: Any  # fastapi TestClient with the user's key
    keys: dict[str, str]

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.settings.home / "library.sqlite") as conn:
            return conn.execute(sql, args).fetchall()

    def staged(self, job_id: str | None = None) -> list[str]:
        root = self.settings.objects_dir / "staging"
        base = root / job_id if job_id else root
        return sorted(p.relative_to(root).as_posix() for p in base.rglob("*")
                      if p.is_file()) if base.exists() else []

    def checkpoint_bytes(self, job_id: str) -> int:
        path = self.settings.home / "checkpoints.sqlite"
        if not path.exists():
            return 0
        with sqlite3.connect(path) as conn:
            tables = {r[0] for r in conn.execute("select name from sqlite_master")}
            total = 0
            for table in ("checkpoints", "writes"):
                if table in tables:
                    cols = {r[1] for r in conn.execute(f"pragma table_info({table})")}
                    blob = "checkpoint" if table == "checkpoints" else "value"
                    meta = "+ length(metadata)" if "metadata" in cols else ""
                    total += conn.execute(f"select coalesce(sum(length({blob}) {meta}), 0) "
                                          f"from {table} where thread_id = ?",
                                          (job_id,)).fetchone()[0]
            return int(total)

    def vectors(self) -> int:
        from storage import vectors

        try:
            return asyncio.run(vectors.count(self.settings))
        except Exception:  # noqa: BLE001 - no collection yet: nothing was ever written
            return 0

    def wait(self, job_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.client.get(f"/api/jobs/{job_id}").json()
            if job["status"] in TERMINAL:
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not finish: {job}")

    def assert_clean(self, job_id: str | None = None) -> None:
        """No partial source, no chunk without a ready source, vectors = chunks, no derived
        staged file, checkpoints small."""
        assert self.rows("select id, status from sources where status != 'ready'") == []
        assert self.rows("select count(*) from chunks where source_id not in "
                         "(select id from sources where status = 'ready')") == [(0,)]
        assert self.vectors() == self.rows("select count(*) from chunks")[0][0]
        if job_id:
            leftover = [k for k in self.staged(job_id) if not k.endswith("/original")]
            assert leftover == [], leftover  # the original may stay for a retry, nothing else
            assert self.checkpoint_bytes(job_id) < 2 * 2**20


def make_library(tmp: Path, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> Iterator[Library]:
    from fastapi.testclient import TestClient

    from server import auth
    from server.app import create_app
    from storage import db, vectors

    clean_env(monkeypatch)
    settings = load_settings(home=tmp / "home", auth="keys", _env_file=None,
                             **{**LIMITS, **extra})

    async def keys() -> dict[str, str]:
        await db.migrate(settings)
        out = {who: (await auth.create_key(settings, who))[1] for who in ("admin", "user")}
        await db.dispose()
        return out

    made = asyncio.run(keys())
    with TestClient(create_app(settings), client=("10.1.2.3", 5555)) as client:
        client.headers["Authorization"] = f"Bearer {made['user']}"
        yield Library(settings, client, made)
    vectors.close()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    with pytest.MonkeyPatch.context() as mp:
        yield from make_library(tmp_path_factory.mktemp("robust"), mp)


@pytest.fixture(scope="module")
def live(lib: Library) -> Iterator[str]:
    """The same library served by a real uvicorn on loopback (TestClient reads request bodies
    whole before the app sees them, so streaming limits need a real server)."""
    import socket

    import uvicorn

    from server.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(lib.settings), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 90
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


# --- a loopback HTTP server whose answers the test decides ---------------------------------------

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    routes: dict[str, Handler]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        route = self.server.routes.get(self.path)  # type: ignore[attr-defined]
        if route is None:
            self.send_error(404)
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def web() -> Iterator[tuple[str, dict[str, Handler]]]:
    """(base URL, routes): add `routes[path] = handler(request_handler)`."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.routes
    server.shutdown()
