"""Helpers for the server and worker tests: a real stack of processes on PostgreSQL and Redis.

A stack is one uvicorn server process plus, in arq mode, worker processes, sharing a schema of
its own in PostgreSQL database `test` (one per test process, tables truncated when a stack
starts, dropped at exit), Redis database 9 under a unique key prefix (so several test runs can
share the machine's services), and a LIBRARIAN_HOME under pytest's tmp folder. The test-only
"steps" graph is registered through a dist-info on PYTHONPATH, the same entry-point mechanism
plugins use.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import jobgraphs

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"
REDIS_URL = "redis://127.0.0.1:6379/9"
KEEP_TABLES = {"alembic_version", "checkpoint_migrations"}
TERMINAL = {"completed", "failed", "cancelled"}


def service_up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@functools.cache
def pg_url() -> str:
    """A role owning a fresh schema of the `test` database, for this test process only."""
    import psycopg

    name = f"librarian_s_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN')
        conn.execute(f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"')
        conn.execute(f'ALTER ROLE "{name}" SET search_path = "{name}"')
    atexit.register(_drop_role, name)
    return f"postgresql://{name}@127.0.0.1:5432/test"


def _drop_role(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        conn.execute(f'DROP OWNED BY "{name}"')
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def register_site(root: Path) -> Path:
    site = jobgraphs.register(root / "site")
    if str(site) not in sys.path:
        sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    return site


async def reset_services(env: dict[str, str]) -> None:
    """Schema up to date, every table of this process's schema empty."""
    from sqlalchemy import text

    from storage import db
    from storage.settings import load_settings

    settings = load_settings(home=Path(env["LIBRARIAN_HOME"]), database_url=pg_url())
    await db.migrate(settings)
    async with db.engine(settings).begin() as conn:
        from storage.checkpoints import checkpointer

        async with checkpointer(settings):
            pass  # creates the checkpoint tables
        rows = await conn.execute(text(
            "select tablename from pg_tables where schemaname=current_schema()"))
        tables = [r[0] for r in rows if r[0] not in KEEP_TABLES]
        if tables:
            await conn.execute(text("truncate " + ", ".join(f'"{t}"' for t in tables)
                                    + " cascade"))
    await db.dispose()


@dataclass
class Stack:
    """Running server (and workers) plus what tests need to talk to them."""

    mode: str
    root: Path
    env: dict[str, str]
    url: str = ""
    server: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, who: str | None = "alice") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def settings(self) -> Any:
        from storage.settings import load_settings

        return load_settings(home=Path(self.env["LIBRARIAN_HOME"]), database_url=pg_url(),
                             redis_url=self.env.get("LIBRARIAN_REDIS_URL") or None,
                             redis_prefix=self.env["LIBRARIAN_REDIS_PREFIX"])

    def start_worker(self, name: str = "w") -> subprocess.Popen[bytes]:
        log = open(self.root / f"worker-{name}-{len(self.workers)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-c", "from tests import netguard; netguard.install(); "
             "from server.worker import main; main()"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def start_server(self, timeout: float = 180) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = open(self.root / "server.log", "wb")  # noqa: SIM115
        self.server = subprocess.Popen(
            [sys.executable, "-c", "from tests import netguard; netguard.install(); "
             "import uvicorn; uvicorn.run('server.app:create_app', factory=True, "
             f"host='127.0.0.1', port={port}, log_level='warning')"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError((self.root / "server.log").read_text()[-3000:])
            try:
                if httpx.get(self.url + "/api/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        for proc in [*self.workers, *([self.server] if self.server else [])]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*self.workers, *([self.server] if self.server else [])]:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def make_stack(root: Path, mode: str, *, workers: int = 1, server: bool = True,
               **extra: str) -> Stack:
    """Start a server (in-process executor, or arq with `workers` worker processes)."""
    if not service_up(5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    if mode == "arq" and not service_up(6379):
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    site = register_site(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    env.update(PYTHONPATH=os.pathsep.join([str(REPO), str(site)]),
               LIBRARIAN_HOME=str(root / "home"), LIBRARIAN_DATABASE_URL=pg_url(),
               LIBRARIAN_REDIS_PREFIX=f"lbtest-{uuid.uuid4().hex[:8]}",
               LIBRARIAN_JOB_LEASE_S="3", LIBRARIAN_AUTH="keys", **extra)
    if mode == "arq":
        env["LIBRARIAN_REDIS_URL"] = REDIS_URL
    stack = Stack(mode, root, env)
    asyncio.run(reset_services(env))
    stack.keys = asyncio.run(_keys(stack))
    if server:
        stack.start_server()
    for _ in range(workers if mode == "arq" else 0):
        stack.start_worker()
    return stack


async def _keys(stack: Stack) -> dict[str, str]:
    from server import auth
    from storage import db

    settings = stack.settings()
    out = {}
    for who in ("alice", "bob"):
        _, out[who] = await auth.create_key(settings, who)
    await db.dispose()
    return out


def wait_job(client: httpx.Client, job_id: str, timeout: float = 60,
             until: Any = None) -> dict[str, Any]:
    """Poll until the job ends (or `until(job)` holds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if (until(job) if until else job["status"] in TERMINAL):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def steps_job(client: httpx.Client, source_id: str, marker: Path, **params: Any) -> str:
    marker.mkdir(parents=True, exist_ok=True)
    priority = params.pop("priority", 5)
    resp = client.post("/api/content/export", json={
        "source_ids": [source_id], "format": "steps", "priority": priority,
        "parameters": {"marker": str(marker), **params}})
    assert resp.status_code == 202, resp.text
    return str(resp.json()["job_id"])


def upload(client: httpx.Client, path: Path, **data: str) -> dict[str, Any]:
    with path.open("rb") as f:
        resp = client.post("/api/content/import", files={"file": (path.name, f)}, data=data)
    assert resp.status_code == 202, resp.text
    return dict(resp.json())
