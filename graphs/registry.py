"""Which graphs exist: ingest, plus every exporter registered under `librarian.exporters`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from langgraph.graph import StateGraph
from pydantic import BaseModel


@dataclass(frozen=True)
class GraphSpec:
    """A runnable job kind: its graph builder and its stages in order (for progress)."""

    name: str
    build: Callable[[], StateGraph[Any]]
    stages: list[str]
    description: str = ""
    request: type[BaseModel] | None = None  # its parameters model, checked at the request


def _builtin() -> dict[str, GraphSpec]:
    from graphs import documents, ingest, podcast, video

    return {
        "ingest": GraphSpec("ingest", ingest.build_graph, ingest.STAGES, "import a source"),
        "podcast": podcast.SPEC,
        "video": video.SPEC,
        **documents.SPECS,
    }


def graphs() -> dict[str, GraphSpec]:
    found = _builtin()
    for ep in entry_points(group="librarian.exporters"):
        if ep.name not in found:
            spec = ep.load()
            if isinstance(spec, GraphSpec):
                found[ep.name] = spec
    return found


def export_formats() -> list[str]:
    return sorted(name for name in graphs() if name != "ingest")
