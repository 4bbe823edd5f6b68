"""What every node needs from its run: the settings, the job (thread) id, progress reporting."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer

from storage.settings import Settings, get_settings


def job_id(config: RunnableConfig | None) -> str:
    """The job id is the LangGraph thread id."""
    return str(((config or {}).get("configurable") or {}).get("thread_id") or "adhoc")


def settings_for(config: RunnableConfig | None) -> Settings:
    """Settings handed in by the runner, else the process-wide ones (LangGraph Studio)."""
    cfg = ((config or {}).get("configurable") or {}).get("settings")
    return cfg if isinstance(cfg, Settings) else get_settings()


def report(fraction: float, message: str, **extra: Any) -> None:
    """Send a progress event (fraction of the current stage done) to whoever streams the run."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # called outside a graph run
        return
    writer({"progress": max(0.0, min(1.0, fraction)), "message": message, **extra})
