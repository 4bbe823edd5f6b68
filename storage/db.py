"""Database engine, sessions and migrations (SQLAlchemy async; SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.settings import Settings

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
    """A session that commits on success and rolls back on error."""
    await migrate(settings)
    maker = async_sessionmaker(engine(settings), expire_on_commit=False)
    async with maker() as s:
        try:
            yield s
            await s.commit()
        except BaseException:
            await s.rollback()
            raise
    if settings.neo4j_url and s.info.get("provenance_ops"):  # committed edges -> Neo4j mirror
        from storage.neo4j_mirror import mirror, take_ops

        await mirror(settings, take_ops(s))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(conn: Connection) -> None:
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
