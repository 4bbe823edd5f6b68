"""The chat model: any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp, OpenRouter).

`chat_model` builds it from settings, `check_reachable` is the preflight, `structured_call` asks
for one Pydantic object and returns it with the token usage, translating server failures into
the project's error types. Structured output has three modes, tried in order from the one asked
for: `function_calling` (a forced tool call: what OpenAI, vLLM and Ollama honour), `json_object`
(a JSON reply constrained by the schema, `response_format={"type": "json_object", "schema":
...}`: llama.cpp's servers turn the schema into a grammar) and `json_schema` (OpenAI's strict
mode). A server that refuses a mode, with an error or by ignoring a forced tool call (llama.cpp's
server takes only "none", "auto" or "required"), is remembered per base URL and asked the next
mode, so one call never fails for want of a mode. A reply that writes its call as text (a JSON
object, fenced or in <tool_call> tags, or the {"name", "arguments"} envelope) is still parsed.
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
StructuredMethod = Literal["function_calling", "json_object", "json_schema"]
METHODS: tuple[StructuredMethod, ...] = ("function_calling", "json_object", "json_schema")
_REFUSED: dict[str, set[str]] = {}  # base URL -> structured modes its server refused
M = TypeVar("M", bound=BaseModel)


def _api_key(settings: Settings) -> SecretStr:
    # Local servers (Ollama, llama.cpp, vLLM) ignore the key, but the OpenAI client wants one.
    return settings.llm_api_key or SecretStr("not-needed")


def chat_model(settings: Settings, *, temperature: float = 0.3, seed: int | None = 7,
               max_tokens: int | None = None, timeout: float = 120, http_client: Any = None,
               http_async_client: Any = None) -> BaseChatModel:
    """A `ChatOpenAI` on the configured server (Chat Completions API, never Responses)."""
    if not settings.llm_configured:
        raise ConfigError(NOT_CONFIGURED)
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(base_url=settings.llm_base_url, api_key=_api_key(settings),
                      model=settings.llm_model or "", temperature=temperature, seed=seed,
                      max_tokens=max_tokens,  # type: ignore[call-arg]
                      max_retries=2, timeout=timeout, use_responses_api=False,
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
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S) or re.search(
        r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", text, re.S)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if start >= 0 and end > start else text


def text_call(content: Any) -> dict[str, Any] | None:
    """A JSON object written as text instead of a tool call (fenced, tagged or bare), or None."""
    if not isinstance(content, str) or "{" not in content:
        return None
    try:
        obj = json.loads(_json_in(content))
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def unwrap(obj: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a {"name": ..., "arguments"|"parameters": {...}} envelope, else `obj`."""
    for key in ("arguments", "parameters"):
        inner = obj.get(key)
        if isinstance(obj.get("name"), str) and isinstance(inner, dict):
            return inner
    return obj


def _salvage(raw: Any, schema: type[M]) -> M | None:
    """Parse a reply the structured parser refused (JSON in prose or fences, loose tool call)."""
    if not isinstance(raw, AIMessage):
        return None
    candidates: list[Any] = [call.get("args") for call in raw.tool_calls]
    found = text_call(raw.content)
    if found is not None:
        candidates += [found, unwrap(found)]
    for cand in candidates:
        try:
            if isinstance(cand, dict):
                return schema.model_validate(cand)
        except ValidationError:
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


def _server_of(model: BaseChatModel) -> str | None:
    base = getattr(model, "openai_api_base", None)
    return str(base) if base else None


def _refuses_mode(exc: Exception) -> bool:
    """A client error that says the server lacks the structured mode (not a transient one)."""
    import openai

    if isinstance(exc, NotImplementedError):
        return True
    if isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError
                  | openai.NotFoundError):
        return True
    if isinstance(exc, openai.InternalServerError):
        text = str(exc).lower()
        return any(w in text for w in ("response_format", "json_schema", "tool", "literal_error",
                                       "validation error"))
    return False


def _runnable(model: BaseChatModel, schema: type[M], method: StructuredMethod) -> Any:
    if method == "json_object":
        bound = model.bind(response_format={"type": "json_object",
                                            "schema": schema.model_json_schema()})
        return bound | (lambda raw: {"raw": raw, "parsed": None, "parsing_error": None})
    return model.with_structured_output(schema, method=method, include_raw=True)


def modes_from(method: StructuredMethod, model: BaseChatModel) -> list[StructuredMethod]:
    """`method`, then the other modes, minus those this model's server already refused."""
    refused = _REFUSED.get(_server_of(model) or "", set())
    order = [method] + [m for m in METHODS if m != method]
    return [m for m in order if m not in refused] or [method]


async def structured_call(model: BaseChatModel, schema: type[M], messages: list[BaseMessage], *,
                          method: StructuredMethod = "function_calling", attempts: int = 2,
                          settings: Settings | None = None) -> tuple[M, dict[str, int]]:
    """Ask for one `schema` object; fall back to the next mode when the server refuses one;
    retry an unparseable reply once; return it with the token usage."""
    modes = modes_from(method, model)
    for k, mode in enumerate(modes):
        try:
            return await _call(model, schema, messages, mode, attempts, settings)
        except _Refused as exc:
            server = _server_of(model)
            if server:  # remembered for a real server only
                _REFUSED.setdefault(server, set()).add(mode)
            if k == len(modes) - 1:
                raise translate_error(exc.cause, settings) from exc.cause
    raise AssertionError("unreachable")


class _Refused(Exception):
    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def _call(model: BaseChatModel, schema: type[M], messages: list[BaseMessage],
                method: StructuredMethod, attempts: int, settings: Settings | None
                ) -> tuple[M, dict[str, int]]:
    runnable = _runnable(model, schema, method)
    usage: dict[str, int] = {}
    problem = "no reply"
    ignored = 0  # replies without the forced tool call
    for _ in range(max(1, attempts)):
        try:
            result = await runnable.ainvoke(messages)
        except LibrarianError:
            raise
        except Exception as exc:  # the client raises many types; classify them once here
            if _refuses_mode(exc):
                raise _Refused(exc) from exc
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
        ignored += method == "function_calling" and isinstance(raw, AIMessage) \
            and not raw.tool_calls
    if ignored == max(1, attempts):
        raise _Refused(Retryable(f"the server ignored the forced tool call: {problem}"))
    raise Retryable(f"the LLM did not return a valid {schema.__name__} object: {problem}")
