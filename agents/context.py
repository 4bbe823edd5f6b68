"""What every node needs from its run: the settings, the owner, the job (thread) id, progress.

Export graphs take a `RunContext` as LangGraph's per-run context (`context_schema`); the runner
hands one to every run. Without one (LangGraph Studio, a bare `ainvoke`) the settings and job id
come from the config, the process-wide settings and the "local" owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config, get_stream_writer
from langgraph.runtime import Runtime

from storage.settings import Settings, get_settings


def job_id(config: RunnableConfig | None) -> str:
    """The job id is the LangGraph thread id."""
    return str(((config or {}).get("configurable") or {}).get("thread_id") or "adhoc")


def settings_for(config: RunnableConfig | None) -> Settings:
    """Settings handed in by the runner, else the process-wide ones (LangGraph Studio)."""
    cfg = ((config or {}).get("configurable") or {}).get("settings")
    return cfg if isinstance(cfg, Settings) else get_settings()


@dataclass(frozen=True)
class RunContext:
    """Per-run context of an export graph: never checkpointed, given again on every resume."""

    settings: Settings
    owner: str = "local"
    job_id: str = "adhoc"


def run_context(runtime: Runtime[RunContext] | None) -> RunContext:
    """The run's context, or one built from the config when the caller gave none."""
    ctx = runtime.context if runtime is not None else None
    if isinstance(ctx, RunContext):
        return ctx
    try:
        config: RunnableConfig | None = get_config()
    except RuntimeError:  # outside a graph run
        config = None
    owner = ((config or {}).get("configurable") or {}).get("owner")
    return RunContext(settings_for(config), str(owner or "local"), job_id(config))


def report(fraction: float, message: str, **extra: Any) -> None:
    """Send a progress event (fraction of the current stage done) to whoever streams the run."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # called outside a graph run
        return
    writer({"progress": max(0.0, min(1.0, fraction)), "message": message, **extra})
