"""The LangGraph checkpointer, chosen from the database URL: SQLite file or PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph.checkpoint.base import BaseCheckpointSaver

from storage.settings import Settings


def postgres_dsn(settings: Settings) -> str:
    """psycopg-style DSN from the SQLAlchemy URL."""
    return "postgresql://" + settings.db_url.split("://", 1)[1]


@asynccontextmanager
async def checkpointer(settings: Settings) -> AsyncIterator[BaseCheckpointSaver]:
    """An open, set-up saver for the lifetime of the context."""
    if settings.is_postgres:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(postgres_dsn(settings)) as saver:
            await saver.setup()
            yield saver
    else:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        settings.home.mkdir(parents=True, exist_ok=True)
        path = settings.home / "checkpoints.sqlite"
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            await saver.setup()
            yield saver
