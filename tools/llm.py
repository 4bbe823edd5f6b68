"""The chat model: any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp, OpenRouter).

`chat_model` builds it from settings, `check_reachable` is the preflight, `structured_call` asks
for one Pydantic object and returns it with the token usage, translating server failures into
the project's error types.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal, TypeVar

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, SecretStr, ValidationError

from storage.errors import ConfigError, LibrarianError, Retryable
from storage.settings import Settings

NOT_CONFIGURED = ("no LLM configured: set LIBRARIAN_LLM_BASE_URL and LIBRARIAN_LLM_MODEL "
                  "(and LIBRARIAN_LLM_API_KEY if the server needs one)")
StructuredMethod = Literal["json_schema", "function_calling"]
M = TypeVar("M", bound=BaseModel)


def _api_key(settings: Settings) -> SecretStr:
    # Local servers (Ollama, llama.cpp, vLLM) ignore the key, but the OpenAI client wants one.
    return settings.llm_api_key or SecretStr("not-needed")


def chat_model(settings: Settings, *, temperature: float = 0.3, seed: int | None = 7,
               http_client: Any = None, http_async_client: Any = None) -> BaseChatModel:
    """A `ChatOpenAI` on the configured server (Chat Completions API, never Responses)."""
    if not settings.llm_configured:
        raise ConfigError(NOT_CONFIGURED)
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(base_url=settings.llm_base_url, api_key=_api_key(settings),
                      model=settings.llm_model or "", temperature=temperature, seed=seed,
                      max_retries=2, timeout=120, use_responses_api=False,
                      http_client=http_client, http_async_client=http_async_client)


async def check_reachable(settings: Settings, http_client: httpx.AsyncClient | None = None) -> None:
    """Preflight: GET {base_url}/models answers; raise ConfigError/Retryable naming the URL."""
    if not settings.llm_configured:
        raise ConfigError(NOT_CONFIGURED)
    url = (settings.llm_base_url or "").rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {_api_key(settings).get_secret_value()}"}
    client = http_client or httpx.AsyncClient(timeout=10.0)
    try:
        resp = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise Retryable(f"LLM server unreachable at {url}: {type(exc).__name__}: {exc}") from exc
    finally:
        if http_client is None:
            await client.aclose()
    if resp.status_code in (401, 403):
        raise ConfigError(f"LLM server at {url} refused the API key (HTTP {resp.status_code}): "
                          "check LIBRARIAN_LLM_API_KEY")
    if resp.status_code == 404:
        raise ConfigError(f"no OpenAI-compatible API at {url} (HTTP 404): "
                          "LIBRARIAN_LLM_BASE_URL usually ends in /v1")
    if resp.status_code >= 500 or resp.status_code == 429:
        raise Retryable(f"LLM server at {url} is busy or failing (HTTP {resp.status_code})")
    if resp.status_code >= 400:
        raise ConfigError(f"LLM server at {url} answered HTTP {resp.status_code}")


def prompt_hash(text: str) -> str:
    """Short stable id of a prompt template (sha256 hex, first 16 characters)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def translate_error(exc: Exception, settings: Settings | None = None) -> LibrarianError:
    """Map an OpenAI client error onto ConfigError (our fault) or Retryable (theirs, transient)."""
    import openai

    where = f" at {settings.llm_base_url} (model {settings.llm_model})" if settings else ""
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ConfigError(f"LLM server{where} refused the API key: {exc}")
    if isinstance(exc, openai.NotFoundError):
        return ConfigError(f"LLM server{where} has no such model or endpoint: {exc}")
    if isinstance(exc, openai.BadRequestError):
        return ConfigError(f"LLM server{where} rejected the request: {exc}")
    if isinstance(exc, openai.APIError | httpx.HTTPError | TimeoutError):
        return Retryable(f"LLM call failed{where}: {type(exc).__name__}: {exc}")
    return Retryable(f"LLM call failed{where}: {type(exc).__name__}: {exc}")


def _json_in(text: str) -> str:
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if start >= 0 and end > start else text


def _salvage(raw: Any, schema: type[M]) -> M | None:
    """Parse a reply the structured parser refused (JSON in prose or fences, loose tool call)."""
    if not isinstance(raw, AIMessage):
        return None
    candidates: list[Any] = [call.get("args") for call in raw.tool_calls]
    if isinstance(raw.content, str) and raw.content.strip():
        candidates.append(_json_in(raw.content))
    for cand in candidates:
        try:
            if isinstance(cand, str):
                return schema.model_validate(json.loads(cand))
            if isinstance(cand, dict):
                return schema.model_validate(cand)
        except (ValueError, ValidationError):
            continue
    return None


def usage_of(raw: Any) -> dict[str, int]:
    """Token counts of one reply, from `usage_metadata` (or the OpenAI `token_usage`)."""
    out: dict[str, int] = {}
    meta = getattr(raw, "usage_metadata", None)
    if meta:
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            if isinstance(meta.get(key), int):
                out[key] = meta[key]
        return out
    token_usage = (getattr(raw, "response_metadata", None) or {}).get("token_usage") or {}
    for ours, theirs in (("input_tokens", "prompt_tokens"), ("output_tokens", "completion_tokens"),
                         ("total_tokens", "total_tokens")):
        if isinstance(token_usage.get(theirs), int):
            out[ours] = token_usage[theirs]
    return out


async def structured_call(model: BaseChatModel, schema: type[M], messages: list[BaseMessage], *,
                          method: StructuredMethod = "json_schema", attempts: int = 2,
                          settings: Settings | None = None) -> tuple[M, dict[str, int]]:
    """Ask for one `schema` object; retry an unparseable reply once; return it with token usage."""
    runnable = model.with_structured_output(schema, method=method, include_raw=True)
    usage: dict[str, int] = {}
    problem = "no reply"
    for _ in range(max(1, attempts)):
        try:
            result = await runnable.ainvoke(messages)
        except LibrarianError:
            raise
        except Exception as exc:  # the client raises many types; classify them once here
            raise translate_error(exc, settings) from exc
        raw = result.get("raw") if isinstance(result, dict) else None
        for key, value in usage_of(raw).items():
            usage[key] = usage.get(key, 0) + value
        parsed = result.get("parsed") if isinstance(result, dict) else result
        if isinstance(parsed, schema):
            return parsed, usage
        if isinstance(parsed, dict):
            try:
                return schema.model_validate(parsed), usage
            except ValidationError as exc:
                problem = str(exc).splitlines()[0]
        salvaged = _salvage(raw, schema)
        if salvaged is not None:
            return salvaged, usage
        err = result.get("parsing_error") if isinstance(result, dict) else None
        problem = str(err).splitlines()[0] if err else problem
    raise Retryable(f"the LLM did not return a valid {schema.__name__} object: {problem}")
