"""Chat: POST /api/chat streams one turn's progress and reply (SSE); GET its history."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from agents.importer import is_url
from graphs import chat
from server import events, executor
from server import limits as server_limits
from server.auth import Owner, SettingsDep
from storage import db, library
from storage import jobs as jobs_db
from storage.errors import BadInput, NotFound
from storage.settings import Settings

router = APIRouter(tags=["chat"])
ThreadId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: ThreadId | None = None
    message: str = Field(max_length=4000)
    attachments: list[str] = Field(default_factory=list, max_length=20, description=(
        "library source ids (upload files with POST /api/content first) or http(s) URLs"))


class ChatHistory(BaseModel):
    thread_id: str
    messages: list[dict[str, Any]]


def queued_jobs(settings: Settings) -> chat.RunJob:
    """Jobs go to the executor (in-process or arq workers); their events are followed."""
    async def run_job(graph: str, inp: dict[str, Any], owner: str, listener: chat.Listener
                      ) -> dict[str, Any]:
        await server_limits.charge_export(settings, owner, graph)
        job = await executor.submit(settings, graph, inp, owner=owner)
        async for event in events.follow(settings, job.id, owner):
            res = listener(event)
            if res is not None:
                await res
        async with db.session(settings) as s:
            row = await jobs_db.get_job(s, job.id, owner)
        return {"job_id": row.id, "status": row.status, "error": row.error,
                "result": row.result or {}}

    return run_job


async def check_attachments(settings: Settings, items: list[str], owner: str) -> None:
    """Only URLs and the caller's own sources: never a path on the server."""
    async with db.session(settings) as s:
        for item in items:
            if is_url(item):
                continue
            try:
                await library.get_source(s, item, owner)
            except NotFound:
                raise BadInput(f"attachment {item!r} is neither a URL nor one of your sources "
                               "(upload files with POST /api/content first)") from None


@router.post("/api/chat", responses={200: {"content": {"text/event-stream": {}}}})
async def post_chat(req: ChatIn, settings: SettingsDep, owner: Owner) -> EventSourceResponse:
    """One turn of a conversation, streamed as Server-Sent Events: `progress` and `status`
    events of the jobs it runs, interim `message`s, then one `reply` (text, artifact,
    citations, attribution). A new thread is started when thread_id is omitted."""
    import uuid

    await check_attachments(settings, req.attachments, owner)
    thread = req.thread_id or str(uuid.uuid4())
    await chat.check_thread(settings, thread, owner)
    if not req.message.strip() and not req.attachments:
        raise BadInput("say something (or attach sources)")
    stream = chat.converse(settings, thread, req.message, req.attachments, owner=owner,
                           run_job=queued_jobs(settings))

    async def gen() -> AsyncIterator[dict[str, str]]:
        yield {"event": "thread", "data": json.dumps({"thread_id": thread})}
        async for event in stream:
            yield {"event": str(event.get("type", "message")),
                   "data": json.dumps(event, default=str)}

    return EventSourceResponse(gen(), ping=15)


@router.get("/api/chat/{thread_id}", response_model=ChatHistory)
async def get_chat(thread_id: str, settings: SettingsDep, owner: Owner) -> ChatHistory:
    """The conversation's messages, oldest first (404 for an unknown or another's thread)."""
    msgs = await chat.history(settings, thread_id, owner=owner)
    return ChatHistory(thread_id=thread_id, messages=json.loads(json.dumps(msgs, default=str)))
