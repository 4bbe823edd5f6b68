"""A test-only exporter graph, "steps", registered through the `librarian.exporters` entry point.

start -> work -> ingest -> slow -> finish. Every node run is appended to `<marker>/runs.log`
(so tests see which nodes ran again after a retry or a crash); `work` can fail transiently or
permanently on request; `slow` can be held until a file is removed; `ingest` imports a real
file through the ingest graph; `finish` writes one artifact whose id comes from the job id.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents.context import job_id, report, settings_for
from graphs import ingest as ingest_graph
from graphs.registry import GraphSpec
from storage import db
from storage.errors import BadInput, Retryable
from storage.models import Artifact

STAGES = ["start", "work", "ingest", "slow", "finish"]
ENTRY_POINTS = "[librarian.exporters]\nsteps = tests.jobgraphs:SPEC\n"


class StepsState(TypedDict, total=False):
    marker: str
    owner: str
    sources: list[str]
    delay: float
    slow_s: float
    hold_while: str  # `slow` waits while this file exists (the test decides when it ends)
    fail_transient: int  # `work` fails this many times with a Retryable error
    fail_while: str  # `work` fails permanently while this file exists
    import_path: str | None
    source_id: str | None
    result: dict[str, Any]


def runs(marker: str | Path) -> list[str]:
    path = Path(marker) / "runs.log"
    return path.read_text().split() if path.exists() else []


def _mark(state: StepsState, node: str) -> None:
    with open(Path(state["marker"]) / "runs.log", "a") as f:
        f.write(node + "\n")


async def start(state: StepsState, config: RunnableConfig) -> StepsState:
    _mark(state, "start")
    await asyncio.sleep(float(state.get("delay") or 0))
    return {}


async def work(state: StepsState, config: RunnableConfig) -> StepsState:
    _mark(state, "work")
    await asyncio.sleep(float(state.get("delay") or 0))
    fails = runs(state["marker"]).count("work")
    if fails <= int(state.get("fail_transient") or 0):
        raise Retryable(f"transient failure {fails}")
    if state.get("fail_while") and Path(str(state["fail_while"])).exists():
        raise BadInput("work refused: the flag file exists")
    return {}


async def ingest(state: StepsState, config: RunnableConfig) -> StepsState:
    _mark(state, "ingest")
    path = state.get("import_path")
    if not path:
        return {"source_id": None}
    settings = settings_for(config)
    sub = ingest_graph.build_graph().compile()
    out = await sub.ainvoke({"source": path, "owner": state.get("owner", "local")},
                            {"configurable": {"thread_id": f"{job_id(config)}-import",
                                              "settings": settings}})
    return {"source_id": out["result"]["source_id"]}


async def slow(state: StepsState, config: RunnableConfig) -> StepsState:
    _mark(state, "slow")
    total = float(state.get("slow_s") or 0)
    steps = 10
    for i in range(steps):
        await asyncio.sleep(total / steps)
        report((i + 1) / steps, f"slow step {i + 1}/{steps}")
    hold = state.get("hold_while")
    while hold and Path(hold).exists():  # noqa: ASYNC110 - the test process removes the file
        await asyncio.sleep(0.05)
    return {}


async def finish(state: StepsState, config: RunnableConfig) -> StepsState:
    _mark(state, "finish")
    settings = settings_for(config)
    art_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"steps:{job_id(config)}"))
    async with db.session(settings) as s:
        if await s.get(Artifact, art_id) is None:
            s.add(Artifact(id=art_id, owner=state.get("owner", "local"), kind="steps",
                           title="steps", job_id=job_id(config), files={}))
    return {"result": {"artifact_id": art_id, "source_id": state.get("source_id")}}


def build_graph() -> StateGraph[Any]:
    g: StateGraph[Any] = StateGraph(StepsState)
    for name in STAGES:
        g.add_node(name, globals()[name])
    g.add_edge(START, STAGES[0])
    for a, b in zip(STAGES, STAGES[1:], strict=False):
        g.add_edge(a, b)
    g.add_edge(STAGES[-1], END)
    return g


SPEC = GraphSpec("steps", build_graph, STAGES, "test-only: five marked steps")


def register(site: Path) -> Path:
    """Write a dist-info declaring the entry point under `site` (put it on sys.path)."""
    dist = site / "librarian_testgraphs-0.0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: librarian-testgraphs\n"
                                   "Version: 0.0.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    return site
