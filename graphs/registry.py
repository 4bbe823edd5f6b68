"""Which graphs exist: ingest and publish, plus every exporter registered under
`librarian.exporters`."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from langgraph.graph import StateGraph

from graphs.spec import GraphSpec
from storage import checkpoints

__all__ = ["NOT_EXPORTS", "GraphSpec", "export_formats", "graphs", "state_types"]
NOT_EXPORTS = frozenset({"ingest", "publish"})  # job kinds that make no artifact


def _builtin() -> dict[str, GraphSpec]:
    from graphs import documents, ingest, podcast, publish, video  # compiled on first use

    return {
        "ingest": GraphSpec("ingest", ingest.build_graph, ingest.STAGES, "import a source"),
        "publish": publish.SPEC,
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
    return sorted(name for name in graphs() if name not in NOT_EXPORTS)


def state_types(*extra: StateGraph[Any, Any, Any, Any]) -> set[type]:
    """The classes a checkpoint may hold (its msgpack allowlist): those of every job graph's
    state and node inputs, and of `extra` graphs. All of them, since a graph's subgraphs (the
    sub-import of a narrated export, an export run inline by chat) share its checkpointer."""
    return set(_job_types(tuple(sorted(graphs())))) | checkpoints.state_types(*_schemas(extra))


@functools.cache
def _job_types(names: tuple[str, ...]) -> frozenset[type]:
    specs = graphs()
    return frozenset(checkpoints.state_types(*_schemas([specs[n].build() for n in names])))


def _schemas(built: Iterable[StateGraph[Any, Any, Any, Any]]) -> list[Any]:
    return [schema for g in built
            for schema in (g.state_schema, *(node.input_schema for node in g.nodes.values()))]
