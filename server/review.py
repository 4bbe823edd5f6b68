"""Review before audio: the script of a run stopped at `review`, the owner's edits, approval.

A podcast or video asked with `review` stops after grounding (the graph's `review` node calls
LangGraph's `interrupt`); its job waits in status `review` with the draft in its checkpoint.
`script` reads it, `edit_script` checks the owner's edits (the same rules the graph applies on
resume, so a bad edit is refused here, not later) and stages them beside the job's other staged
inputs, `approve` puts the job back in the queue; the runner resumes the graph with the staged
edits (`resume_value`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from agents import script_edits
from agents.script import Line, Passage, ScriptEdit
from graphs.registry import graphs, state_types
from storage import db
from storage import jobs as jobs_db
from storage.checkpoints import checkpointer
from storage.errors import Conflict
from storage.jobs import JobStatus
from storage.models import Job
from storage.objects import objects
from storage.settings import Settings


def edit_key(job_id: str) -> str:
    return f"staging/{job_id}/review.json"


async def _waiting(settings: Settings, job_id: str, owner: str | None) -> Job:
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id, owner)  # NotFound for another owner's job
    if job.status != JobStatus.REVIEW:
        raise Conflict(f"job {job_id} is not waiting for review (it is {job.status}); "
                       "ask for review with --review")
    return job


async def _state(settings: Settings, job: Job) -> dict[str, Any]:
    async with checkpointer(settings, state_types()) as saver:
        graph = graphs()[job.graph].build().compile(checkpointer=saver)
        snap = await graph.aget_state({"configurable": {"thread_id": job.id}})
    return dict(snap.values or {})


def _passage_out(p: Passage) -> dict[str, Any]:
    return {"chunk_id": p.chunk_id, "source_id": p.source_id, "source_title": p.source_title,
            "section": p.section, "page": p.page, "text": p.text}


async def script(settings: Settings, job_id: str, owner: str | None) -> dict[str, Any]:
    """The draft waiting for review: its lines, hosts, the passages it may cite, staged edits."""
    job = await _waiting(settings, job_id, owner)
    state = await _state(settings, job)
    lines: list[Line] = state.get("lines") or []
    staged = await resume_value(settings, job_id)
    return {"job_id": job_id, "graph": job.graph,
            "hosts": [h.name for h in state["plan"].hosts],
            "lines": [ln.model_dump() for ln in lines],
            "edit": staged or script_edits.script_of(lines).model_dump(),
            "edited": staged is not None,
            "passages": [_passage_out(p) for p in state.get("passages") or []]}


async def edit_script(settings: Settings, job_id: str, owner: str | None,
                      edit: ScriptEdit) -> dict[str, Any]:
    """Check the owner's edits as the graph will apply them, then stage them for approval."""
    job = await _waiting(settings, job_id, owner)
    state = await _state(settings, job)
    lines = await asyncio.to_thread(script_edits.apply_edits, state["lines"], edit,
                                    {p.chunk_id: p for p in state["passages"]},
                                    [h.name for h in state["plan"].hosts])
    await objects(settings).put(edit_key(job_id), edit.model_dump_json().encode(),
                                "application/json")
    return {"job_id": job_id, "lines": [ln.model_dump() for ln in lines],
            "edited": sum(1 for ln in lines if ln.meta.get("edited_by") == "owner")}


async def approve(settings: Settings, job_id: str, owner: str | None) -> Job:
    """Queue the reviewed job again; it narrates the staged edits (or the draft as written)."""
    await _waiting(settings, job_id, owner)
    async with db.session(settings) as s:
        await jobs_db.update_job(s, job_id, status=JobStatus.PENDING,
                                 message="approved: narrating the reviewed script")
        return await jobs_db.get_job(s, job_id)


async def resume_value(settings: Settings, job_id: str) -> dict[str, Any] | None:
    """The staged edits a resumed review continues with (None: approved as written)."""
    store = objects(settings)
    key = edit_key(job_id)
    if not await store.exists(key):
        return None
    data: dict[str, Any] = json.loads(await store.get(key))
    return data
