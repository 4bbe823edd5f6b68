"""Understanding with an LLM: tool calling over typed tools, the offline parser as fallback.

The model picks one tool (make an export, search the library, import, job status, list) and
fills its typed arguments; the call becomes the same `Request` the parser produces, so
everything after understanding (resolving, confirming, running jobs) is one code path. Any
failure (no model, a server error, no or malformed tool call) falls back to the parser.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, Field, ValidationError

from agents import intent
from agents.importer import is_url
from storage.settings import Settings

log = logging.getLogger(__name__)
MAX_TOKENS = 400  # a tool call with every argument set is ~150 tokens
CONTEXT_WORDS = {"these", "them", "it", "those", "this", "attached", "same", "again", "both"}


class MakeExport(BaseModel):
    """Make something from sources: a podcast (others: video, report, ebook, flashcards, quiz,
    newsletter, slides). Leave parameters the user did not give empty."""

    format: Literal["podcast", "video", "report", "ebook", "flashcards", "quiz", "newsletter",
                    "slides"] = "podcast"
    sources: list[str] = Field(default_factory=list, description=(
        "attachments, URLs, library ids or paper names/authors; 'these' for the attachments "
        "or the conversation's last sources"))
    minutes: float | None = None
    hosts: int | None = Field(None, ge=1, le=4)
    style: Literal["conversational", "interview", "lecture"] | None = None
    voices: list[str] | None = None
    topic: str | None = None
    language: str | None = Field(None, description="ISO 639-1 code")
    aspect: Literal["16:9", "9:16"] | None = None
    commercial: bool | None = None
    count: int | None = Field(None, ge=1, le=300, description=(
        "how many flashcards, quiz questions, slides or newsletter items"))
    report_style: Literal["briefing", "study-guide", "literature-review"] | None = None


class SearchLibrary(BaseModel):
    """Answer a question from the library (with citations)."""

    question: str


class ImportSources(BaseModel):
    """Import files or URLs into the library without making anything."""

    sources: list[str]


class JobStatus(BaseModel):
    """The status of a job (default: the conversation's last job)."""

    job_id: str | None = None


class ListLibrary(BaseModel):
    """List the sources in the library."""


TOOLS: list[type[BaseModel]] = [MakeExport, SearchLibrary, ImportSources, JobStatus, ListLibrary]
NAMES = {t.__name__ for t in TOOLS}
SYSTEM = ("You are Librarian's front desk. Call exactly one tool for the user's message. "
          "Never answer from your own knowledge: questions go to SearchLibrary.")


def model_for(settings: Settings, config: RunnableConfig) -> Any:
    """A chat model handed in by the caller (tests), else the configured one, else None."""
    given = (config.get("configurable") or {}).get("chat_model")
    if given is not None:
        return given
    if not settings.llm_configured:
        return None
    from tools.llm import chat_model

    return chat_model(settings, temperature=0.0, max_tokens=MAX_TOKENS)


def prompt(message: str, attachments: list[str], context: dict[str, Any],
           messages: list[dict[str, Any]]) -> list[BaseMessage]:
    recent = "\n".join(f"{m.get('role')}: {str(m.get('text'))[:300]}" for m in messages[-7:-1])
    facts = (f"Attachments: {', '.join(Path(a).name for a in attachments) or 'none'}. "
             f"Last request: format={context.get('format')}, params={context.get('params')}, "
             f"{len(context.get('sources') or [])} source(s).")
    return [SystemMessage(SYSTEM), HumanMessage(f"{recent}\n{facts}\nuser: {message}".strip())]


def request_from_call(name: str, args: dict[str, Any], message: str,
                      attachments: list[str]) -> intent.Request:
    """A tool call -> Request (validated by the tool's own model)."""
    req = intent.Request(text=message, by="llm")
    if name == "MakeExport":
        _make_export(req, MakeExport.model_validate(args), attachments)
    elif name == "SearchLibrary":
        req.action, req.question = "ask", SearchLibrary.model_validate(args).question
    elif name == "ImportSources":
        call_i = ImportSources.model_validate(args)
        req.action, req.params = "make", {"import_only": True}
        req.sources = list(dict.fromkeys(list(attachments) + call_i.sources))
    elif name == "JobStatus":
        req.action, req.job_id = "status", JobStatus.model_validate(args).job_id
    elif name == "ListLibrary":
        req.action = "list"
    else:
        raise ValueError(f"unknown tool {name!r}")
    return req


def _make_export(req: intent.Request, call: MakeExport, attachments: list[str]) -> None:
    """Fill `req` from a MakeExport call: attachments and URLs are exact sources, 'this' and
    the like point at the context, other names are library references; a count is the
    kind's own unit (cards, questions, slides, items)."""
    req.action, req.format = "make", call.format
    exact = list(attachments)
    attached = {Path(a).name for a in attachments}
    for item in call.sources:
        if item in attachments or Path(item).name in attached:
            continue
        if item.lower().strip() in CONTEXT_WORDS:
            req.from_context = True
        elif is_url(item):
            exact.append(item)
        else:
            req.refs.append(item)
    req.sources = exact
    req.params = {k: v for k, v in call.model_dump(exclude={
        "format", "sources", "count", "report_style"}).items() if v is not None}
    if call.format in intent.DOCUMENTS:
        req.params.pop("style", None)  # a podcast style; a report's is report_style
        unit = {"flashcards": "cards", "quiz": "questions", "slides": "slides",
                "newsletter": "items"}.get(call.format)
        if unit and call.count:
            req.params[unit] = call.count
        if call.report_style:
            req.params["style"] = call.report_style


def written_call(ai: AIMessage) -> tuple[str, dict[str, Any]] | None:
    """The first tool call of a reply: a real one, else one the model wrote as text (a JSON
    {"name", "arguments"} object, fenced or in <tool_call> tags) naming one of the tools."""
    if ai.tool_calls:
        return ai.tool_calls[0]["name"], dict(ai.tool_calls[0].get("args") or {})
    from tools.llm import text_call, unwrap

    obj = text_call(ai.content)
    if obj is None or obj.get("name") not in NAMES:
        return None
    return str(obj["name"]), unwrap(obj)


async def call_tools(model: Any, messages: list[BaseMessage]) -> tuple[str, dict[str, Any]]:
    """One tool call: `auto` first (the system prompt asks for exactly one tool), then once
    `required` if the model answered without one. llama.cpp's server, asked `required`, pads the
    reply up to max_tokens; small models often write the call as text, which counts."""
    import openai

    ai = await model.bind_tools(TOOLS).ainvoke(messages)
    found = written_call(ai) if isinstance(ai, AIMessage) else None
    if found is None:
        try:
            ai = await model.bind_tools(TOOLS, tool_choice="any").ainvoke(messages)
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            raise ValueError(f"the model called no tool ({type(exc).__name__} for "
                             "tool_choice=required)") from exc
        found = written_call(ai) if isinstance(ai, AIMessage) else None
    if found is None:
        raise ValueError("the model called no tool")
    return found


async def understand(settings: Settings, config: RunnableConfig, message: str,
                     attachments: list[str], context: dict[str, Any],
                     messages: list[dict[str, Any]]) -> intent.Request:
    """LLM tool call when a model is available; the offline parser otherwise or on failure."""
    model = model_for(settings, config)
    if model is not None:
        try:
            name, args = await call_tools(model, prompt(message, attachments, context,
                                                        messages))
            req = request_from_call(name, args, message, attachments)
            return intent.merge(req, intent.Context.of(context))
        except (ValidationError, ValueError, NotImplementedError) as exc:
            log.warning("LLM understanding failed, using the parser: %s", exc)
        except Exception as exc:  # a server or client failure: the parser still works offline
            log.warning("LLM understanding failed (%s), using the parser", type(exc).__name__)
    return intent.understand(message, attachments, context)
