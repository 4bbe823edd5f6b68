"""Ingest graph: fetch -> detect -> extract -> chunk -> embed -> store -> provenance -> finish."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents import importer
from agents.importer import IngestState

STAGES = ["fetch", "detect", "extract", "chunk", "embed", "store", "provenance", "finish"]


def build_graph() -> StateGraph[Any]:
    g: StateGraph[Any] = StateGraph(IngestState)
    for name in STAGES:
        g.add_node(name, getattr(importer, name))
    g.add_edge(START, "fetch")
    g.add_edge("fetch", "detect")
    g.add_conditional_edges("detect", importer.after_detect, ["extract", "finish"])
    for a, b in zip(STAGES[2:-1], STAGES[3:], strict=True):
        g.add_edge(a, b)
    g.add_edge("finish", END)
    return g


graph = build_graph().compile()  # for LangGraph dev server / Studio (it brings its checkpointer)
