"""langgraph.json lists every graph the registry runs, and each entry loads as a compiled graph."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from langgraph.pregel import Pregel

from graphs.registry import graphs

REPO = Path(__file__).resolve().parent.parent


def entries() -> dict[str, str]:
    return dict(json.loads((REPO / "langgraph.json").read_text())["graphs"])


def load(entry: str) -> object:
    """'./graphs/podcast.py:graph' -> the object, imported as the dev server does."""
    path, _, attr = entry.partition(":")
    module = ".".join(Path(path).with_suffix("").parts)
    return getattr(importlib.import_module(module), attr)


def own_graphs() -> set[str]:
    """Graphs this project builds (plugins of other distributions list their own)."""
    return {name for name, spec in graphs().items() if spec.build.__module__.startswith("graphs.")}


def test_every_registered_graph_and_chat_is_listed() -> None:
    assert own_graphs() | {"chat"} <= set(entries())
    assert {"ingest", "podcast", "video", "report"} <= own_graphs()


def test_every_entry_loads_and_compiles() -> None:
    for name, entry in entries().items():
        graph = load(entry)
        assert isinstance(graph, Pregel), name
        nodes = set(graph.get_graph().nodes)
        assert len(nodes - {"__start__", "__end__"}) >= 2, (name, nodes)
        if name in graphs():  # its stages, in the registry's order, are nodes of the graph
            assert set(graphs()[name].stages) <= nodes, name
