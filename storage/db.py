"""Database engine, sessions and migrations (SQLAlchemy async; SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

_engines: dict[tuple[str, int], AsyncEngine] = {}
_migrated: set[str] = set()
MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATE_LOCK = 0x6C6962726172  # "librar": the advisory lock key migrations take on PostgreSQL


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def engine(settings: Settings) -> AsyncEngine:
    """The engine for the configured database (one per URL and event loop)."""
    url = settings.db_url
    try:
        loop_id = id(asyncio.get_running_loop())
    except RuntimeError:
        loop_id = 0
    key = (url, loop_id)
    if key not in _engines:
        if url.startswith("sqlite"):
            eng = create_async_engine(url, connect_args={"timeout": 30})
            event.listen(eng.sync_engine, "connect", _sqlite_pragmas)
        else:
            eng = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        _engines[key] = eng
    return _engines[key]


@asynccontextmanager
async def session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error. The rollback and the close
    are shielded: a task cancelled (Ctrl-C, a cancelled job, a dropped request) while its
    session ends still returns a clean connection to the pool."""
    await migrate(settings)
    maker = async_sessionmaker(engine(settings), expire_on_commit=False)
    s = maker()
    try:
        yield s
        await s.commit()
    except BaseException:
        await asyncio.shield(s.rollback())
        raise
    finally:
        await asyncio.shield(s.close())
    for hook in _after_commit:  # e.g. committed edges -> the Neo4j mirror
        await hook(settings, s)


LOCKED_TRIES = 6  # SQLite writes that found the database locked: tried again with backoff
T = TypeVar("T")
log = logging.getLogger("librarian.db")


def is_locked(exc: BaseException) -> bool:
    """SQLite's 'database is locked': another writer held the file past busy_timeout."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


async def write(settings: Settings, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `fn` in a short transaction of its own and commit. On SQLite, a write that found
    the database locked (a long writer under heavy load) is tried again, up to LOCKED_TRIES
    times with backoff, so a job's status or heartbeat is not lost to a busy moment; `fn` must
    be safe to run again (it is: nothing of a failed try was committed)."""
    delay = 0.25
    for attempt in range(1, LOCKED_TRIES + 1):
        try:
            async with session(settings) as s:
                return await fn(s)
        except OperationalError as exc:
            if not is_locked(exc) or attempt == LOCKED_TRIES:
                raise
            log.warning("database locked (try %s of %s); trying again", attempt, LOCKED_TRIES)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 4.0)
    raise AssertionError("unreachable")


AfterCommit = Callable[[Settings, AsyncSession], Awaitable[None]]
_after_commit: list[AfterCommit] = []


def after_commit(hook: AfterCommit) -> AfterCommit:
    """Run `hook(settings, session)` after every session that committed (registered once)."""
    if hook not in _after_commit:
        _after_commit.append(hook)
    return hook


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def head_revision() -> str | None:
    """The newest migration's id, read from the revision files' own `revision` lines.

    Ours rather than alembic's ScriptDirectory: importing alembic costs about a second, and every
    CLI command would pay it just to learn that the schema is already current.
    """
    revs: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        body = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*(?::[^=]+)?=\s*['\"]([^'\"]+)['\"]", body, re.M)
        down = re.search(r"^down_revision\s*(?::[^=]+)?=\s*['\"]([^'\"]+)['\"]", body, re.M)
        if rev:
            revs[rev.group(1)] = down.group(1) if down else None
    heads = set(revs) - {d for d in revs.values() if d}
    return heads.pop() if len(heads) == 1 else None  # several heads or none: let alembic decide


def _current(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None  # a new database
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(conn: Connection) -> None:
    head = head_revision()
    if head is not None and _current(conn) == head:
        return  # the schema is current: no alembic import, no script scan
    from alembic import command

    cfg = alembic_config(str(conn.engine.url))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


async def migrate(settings: Settings) -> None:
    """Bring the schema to the newest migration (once per process and URL). Processes starting
    together take turns: a lock file beside a SQLite database, an advisory lock on PostgreSQL."""
    url = settings.db_url
    if url in _migrated:
        return
    if url.startswith("sqlite"):
        path = Path(url.split(":///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".migrate.lock"), "a+") as lock:
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            try:
                async with engine(settings).begin() as conn:
                    await conn.run_sync(_upgrade)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    else:
        async with engine(settings).begin() as conn:
            await conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": MIGRATE_LOCK})
            await conn.run_sync(_upgrade)
    _migrated.add(url)


async def dispose(settings: Settings | None = None) -> None:
    """Close pooled connections (all engines, or those of one URL)."""
    for key in list(_engines):
        if settings is None or key[0] == settings.db_url:
            eng = _engines.pop(key)
            await eng.dispose()
    if settings is None:
        _migrated.clear()
    else:
        _migrated.discard(settings.db_url)
