"""A runnable job kind: its graph builder, its stages in order (for progress), its request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langgraph.graph import StateGraph
from pydantic import BaseModel


@dataclass(frozen=True)
class GraphSpec:
    """A runnable job kind: its graph builder and its stages in order (for progress)."""

    name: str
    build: Callable[[], StateGraph[Any, Any, Any, Any]]
    stages: list[str]
    description: str = ""
    request: type[BaseModel] | None = None  # its parameters model, checked at the request
