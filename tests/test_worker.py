"""Worker processes on Redis: a worker killed with -9 mid-job, and the job resumed by another."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from server import executor
from storage import db, vectors
from storage.models import Artifact, Chunk, Job, Source
from tests import jobgraphs
from tests.jobkit import TERMINAL, Stack, make_stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
HTML = Path("/work/shared/testdata/html/creativecommons_about.html")


async def _job(settings: Any, job_id: str) -> Job:
    async with db.session(settings) as s:
        job = await s.get(Job, job_id)
    await db.dispose()
    assert job is not None
    return job


def _wait(settings: Any, job_id: str, until: Any, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = asyncio.run(_job(settings, job_id))
        if until(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"timed out: {job.status} {job.stage} {job.error}")


async def _counts(settings: Any, job_id: str, source_id: str) -> dict[str, int]:
    async with db.session(settings) as s:
        out = {
            "sources": (await s.execute(select(func.count()).select_from(Source).where(
                Source.owner == "alice"))).scalar_one(),
            "chunks": (await s.execute(select(func.count()).select_from(Chunk).where(
                Chunk.source_id == source_id))).scalar_one(),
            "artifacts": (await s.execute(select(func.count()).select_from(Artifact).where(
                Artifact.job_id == job_id))).scalar_one(),
        }
    out["vectors"] = await vectors.count(settings, source_id)
    await db.dispose()
    return out


def test_kill_9_mid_job_resumes_on_another_worker(tmp_path: Path) -> None:
    stack: Stack = make_stack(tmp_path, "arq", workers=0, server=False)
    settings = stack.settings()
    marker = tmp_path / "marker"
    marker.mkdir()
    try:
        job = asyncio.run(executor.submit(settings, "steps", {
            "marker": str(marker), "import_path": str(HTML), "slow_s": 6.0}, owner="alice"))
        first = stack.start_worker("a")
        _wait(settings, job.id, lambda j: j.stage == "slow", 120)
        time.sleep(0.5)
        first.kill()  # SIGKILL: no cleanup, the arq lease is left to expire
        first.wait()
        assert asyncio.run(_job(settings, job.id)).status == "running"
        stack.start_worker("b")
        done = _wait(settings, job.id, lambda j: j.status in TERMINAL, 90)
    finally:
        stack.stop()
    assert done.status == "completed", done.error
    assert done.attempts == 2
    # finished nodes were not run again; the interrupted one was
    assert jobgraphs.runs(marker) == ["start", "work", "ingest", "slow", "slow", "finish"]
    counts = asyncio.run(_counts(settings, job.id, done.result["source_id"]))
    assert counts == {"sources": 1, "chunks": 7, "artifacts": 1, "vectors": 7}
