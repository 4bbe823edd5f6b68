"""Test configuration: no network, no model hubs, a fresh LIBRARIAN_HOME per test."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storage import db, vectors
from storage.objects import S3Objects
from storage.settings import Settings, get_settings, load_settings
from tests import netguard

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["LANGSMITH_TRACING"] = "false"
# Tests default to the fast Piper voices; Kokoro runs only where a test names a kokoro: voice.
os.environ["LIBRARIAN_VOICE_ENGINE"] = "piper"
for _key in ("LANGSMITH_API_KEY", "OPENAI_API_KEY", "LIBRARIAN_LLM_BASE_URL", "LIBRARIAN_LLM_MODEL",
             "LIBRARIAN_LLM_API_KEY", "LIBRARIAN_ELEVENLABS_API_KEY"):
    os.environ.pop(_key, None)
netguard.install()

REPO = Path(__file__).resolve().parent.parent
TESTDATA = (REPO.parent / "shared" / "testdata").resolve()
PAPERS = TESTDATA / "papers"


@pytest.fixture
def testdata() -> Path:
    return TESTDATA


# --- settings on the two databases -------------------------------------------------------------

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_DB = "test"
PG_USERS = ("postgres", "root")
# our tables, alembic's and LangGraph's: emptied between tests (the schema is ours alone)
PG_KEEP = {"alembic_version", "checkpoint_migrations"}


def _pg_admin() -> tuple[str | None, str]:
    """A working admin conninfo for the test database, or (None, why not)."""
    import psycopg

    why = "no user tried"
    for user in PG_USERS:
        conninfo = f"host={PG_HOST} port={PG_PORT} dbname={PG_DB} user={user} connect_timeout=3"
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return conninfo, ""
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
            why = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None, why


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose user owns a fresh schema (dropped at the end of the session).

    The role's search_path is its own schema, so every table goes there, for asyncpg and psycopg
    (LangGraph's saver) alike, without touching or seeing whatever else lives in the shared
    `test` database.
    """
    import psycopg

    admin, why = _pg_admin()
    if admin is None:
        pytest.skip(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT}/{PG_DB} ({why})")
    name = f"librarian_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN')
        conn.execute(f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"')
        conn.execute(f'ALTER ROLE "{name}" SET search_path = "{name}"')  # public stays out of view
    try:
        yield f"postgresql+asyncpg://{name}@{PG_HOST}:{PG_PORT}/{PG_DB}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            conn.execute(f'DROP OWNED BY "{name}"')
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def pg_truncate(url: str) -> None:
    """Empty every table of the test schema (keeps the migration bookkeeping)."""
    import psycopg

    user = url.split("://", 1)[1].split("@", 1)[0]
    with psycopg.connect(f"host={PG_HOST} port={PG_PORT} dbname={PG_DB} user={user}",
                         autocommit=True) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s",
                            (user,)).fetchall()
        names = [r[0] for r in rows if r[0] not in PG_KEEP]
        if names:
            conn.execute("TRUNCATE " + ", ".join(f'"{user}"."{n}"' for n in names) + " CASCADE")


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget LIBRARIAN_* settings of the calling shell (except the test-only ones)."""
    for key in list(os.environ):
        if key.startswith("LIBRARIAN_") and not key.startswith("LIBRARIAN_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LIBRARIAN_VOICE_ENGINE", "piper")
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def settings(request: pytest.FixtureRequest, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Settings]:
    """Settings on a fresh temp LIBRARIAN_HOME, on SQLite or on PostgreSQL.

    Narrow a test to one database with `@pytest.mark.parametrize("settings", ["sqlite"],
    indirect=True)`.
    """
    clean_env(monkeypatch)
    home = tmp_path / "home"
    monkeypatch.setenv("LIBRARIAN_HOME", str(home))
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    if url:
        monkeypatch.setenv("LIBRARIAN_DATABASE_URL", url)
    cfg = load_settings(home=home, database_url=url, _env_file=None)
    try:
        yield cfg
    finally:
        await db.dispose()
        vectors.close()
        get_settings.cache_clear()
        if url:
            pg_truncate(url)


# --- object stores -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, str]]:
    """An S3-compatible HTTP server on loopback: MinIO when LIBRARIAN_TEST_S3_URL is set, else
    moto's standalone server started for the session."""
    url = os.environ.get("LIBRARIAN_TEST_S3_URL")
    if url:
        yield {"url": url, "access_key": os.environ.get("LIBRARIAN_TEST_S3_ACCESS_KEY", ""),
               "secret_key": os.environ.get("LIBRARIAN_TEST_S3_SECRET_KEY", "")}
        return
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield {"url": f"http://127.0.0.1:{port}", "access_key": "moto-test-access",
               "secret_key": "moto-test-secret-key"}
    finally:
        server.stop()


@pytest.fixture
def s3_store(s3_server: dict[str, str]) -> S3Objects:
    """An S3 object store on a bucket of its own."""
    return S3Objects(s3_server["url"], s3_server["access_key"], s3_server["secret_key"],
                     bucket=f"librarian-test-{uuid.uuid4().hex[:12]}")


# --- a library of the five test papers (export tests) ------------------------------------------

@pytest.fixture(scope="session")
def five_papers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, list[str]]]:
    """An embedded-default library holding the five test papers, imported once per session
    through the ingest job (as a user would); yields its settings and the source ids."""
    import asyncio

    from server import runner

    home = tmp_path_factory.mktemp("five-papers")
    settings = load_settings(home=home, _env_file=None)

    async def ingest() -> list[str]:
        ids = []
        for path in sorted(PAPERS.glob("*.pdf")):
            job = await runner.run_job(settings, await runner.submit(
                settings, "ingest", {"source": str(path)}))
            assert job.status == "completed", job.error
            ids.append(job.result["source_id"])
        await db.dispose()
        return ids

    ids = asyncio.run(ingest())
    yield settings, ids
    vectors.close(settings)
