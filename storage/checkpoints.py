"""The LangGraph checkpointer, chosen from the database URL: SQLite file or PostgreSQL.

Checkpoints are read with a strict msgpack allowlist: LangGraph's safe built-ins (datetimes,
UUIDs, paths, messages...) plus the classes our graphs' states hold (`state_types`, passed by
the caller). A checkpoint naming any other class is not turned into that class (LangGraph logs
the refusal and keeps the raw data), so a tampered checkpoint cannot import or run arbitrary
code, and our own types load without LangGraph's "unregistered type" warning.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from enum import Enum
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel
from typing_extensions import is_typeddict

from storage.settings import Settings


def postgres_dsn(settings: Settings) -> str:
    """psycopg-style DSN from the SQLAlchemy URL."""
    return "postgresql://" + settings.db_url.split("://", 1)[1]


def serde(allow: Iterable[type] = ()) -> JsonPlusSerializer:
    """The strict serialiser: safe built-ins and the `allow`ed classes only."""
    return JsonPlusSerializer(allowed_msgpack_modules=tuple(allow) or None)


def state_types(*schemas: Any) -> set[type]:
    """The classes values of these state schemas can be: pydantic models, dataclasses and
    enums named in their type hints, followed through containers, unions and model fields."""
    found: set[type] = set()
    seen: set[int] = set()
    todo = list(schemas)
    while todo:
        tp = todo.pop()
        if id(tp) in seen:
            continue
        seen.add(id(tp))
        todo.extend(typing.get_args(tp))
        if not isinstance(tp, type):
            continue
        if issubclass(tp, BaseModel):
            found.add(tp)
            todo.extend(f.annotation for f in tp.model_fields.values())
        elif dataclasses.is_dataclass(tp) or is_typeddict(tp):
            if dataclasses.is_dataclass(tp):
                found.add(tp)
            todo.extend(_hints(tp).values())
        elif issubclass(tp, Enum):
            found.add(tp)
    return found


def _hints(tp: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(tp, include_extras=True)
    except Exception:  # an unresolvable forward reference: the raw annotations
        return dict(getattr(tp, "__annotations__", {}))


@asynccontextmanager
async def checkpointer(settings: Settings, allow: Iterable[type] = ()
                       ) -> AsyncIterator[BaseCheckpointSaver]:
    """An open, set-up saver for the lifetime of the context; checkpoints may hold the
    `allow`ed classes (see `state_types`) besides LangGraph's safe built-ins."""
    strict = serde(allow)
    if settings.is_postgres:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(postgres_dsn(settings),
                                                       serde=strict) as saver:
            await saver.setup()
            yield saver
    else:
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        settings.home.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(str(settings.home / "checkpoints.sqlite")) as conn:
            lite = AsyncSqliteSaver(conn, serde=strict)
            await lite.setup()
            yield lite
