"""The LLM scriptwriter against a fake chat model and against canned OpenAI HTTP responses."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import Field

from agents import llm_writer
from agents.llm_writer import PROMPT_HASHES, word_budget, write_with_llm
from agents.script import Brief, Host, Line, Passage, WriterInput, estimate_seconds
from storage.errors import BadInput, ConfigError, Retryable
from storage.settings import Settings, load_settings
from tools.llm import NOT_CONFIGURED, chat_model, check_reachable, prompt_hash

FIXTURES = Path(__file__).parent / "fixtures" / "openai"
SPW = 0.4
PAUSE = 0.45

ATTN = {"source_id": "src-attn", "source_title": "Attention Is All You Need",
        "source_authors": ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"], "source_year": "2017"}
RESNET = {"source_id": "src-resnet", "source_title": "Deep Residual Learning for Image Recognition",
          "source_authors": ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"],
          "source_year": "2016"}
ATTN_PASSAGES = [
    Passage(chunk_id="attn-0", seq=0, section="Abstract", page=1, **ATTN,  # type: ignore[arg-type]
            text="The dominant sequence transduction models are based on complex recurrent or "
                 "convolutional neural networks. We propose a new simple network architecture, "
                 "the Transformer, based solely on attention mechanisms, dispensing with "
                 "recurrence and convolutions entirely."),
    Passage(chunk_id="attn-7", seq=7, section="Results", page=8, **ATTN,  # type: ignore[arg-type]
            text="On the WMT 2014 English-to-German translation task, the big transformer model "
                 "outperforms the best previously reported models by more than 2.0 BLEU, "
                 "establishing a new state-of-the-art BLEU score of 28.4. Training took 3.5 days "
                 "on 8 P100 GPUs."),
]
RESNET_PASSAGES = [
    Passage(chunk_id="resnet-0", seq=0, section="Abstract", page=1,
            **RESNET,  # type: ignore[arg-type]
            text="Deeper neural networks are more difficult to train. We present a residual "
                 "learning framework to ease the training of networks that are substantially "
                 "deeper than those used previously."),
    Passage(chunk_id="resnet-5", seq=5, section="Experiments", page=6,
            **RESNET,  # type: ignore[arg-type]
            text="On the ImageNet dataset we evaluate residual nets with a depth of up to 152 "
                 "layers, 8 times deeper than VGG nets but still having lower complexity. An "
                 "ensemble of these residual nets achieves 3.57% error on the ImageNet test set."),
]
PASSAGES = ATTN_PASSAGES + RESNET_PASSAGES  # shown to the model as P1..P4
CHUNKS = {f"P{i + 1}": p.chunk_id for i, p in enumerate(PASSAGES)}


def hosts(*names: str) -> list[Host]:
    return [Host(name=n, role="host" if i == 0 else "co-host", voice_id=f"v{i}")
            for i, n in enumerate(names)]


def writer_input(target_seconds: float, passages: list[Passage] = PASSAGES,
                 names: tuple[str, ...] = ("Alex", "Sam"), style: str = "conversational"
                 ) -> WriterInput:
    hs = hosts(*names)
    return WriterInput(passages=passages, hosts=hs,
                       brief=Brief(hosts=len(hs), style=style),  # type: ignore[arg-type]
                       target_seconds=target_seconds,
                       seconds_per_word={h.name: SPW for h in hs}, pause_s=PAUSE)


def seconds_of(texts: list[str]) -> float:
    return sum(len(t.split()) * SPW + PAUSE for t in texts)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path, llm_base_url="http://127.0.0.1:9/v1",
                         llm_model="test-model", llm_api_key="sk-test-123")


# --- a fake chat model --------------------------------------------------------------------------

Responder = Callable[[str, str], dict[str, Any]]


class FakeChat(BaseChatModel):
    """Answers `with_structured_output` calls from `respond(schema_name, prompt)`."""

    respond: Any
    calls: list[tuple[str, str]] = Field(default_factory=list)
    raw_only: bool = False  # reply as if the structured parser failed (JSON in a code fence)

    @property
    def _llm_type(self) -> str:
        return "fake-structured"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="ok"))])

    def with_structured_output(self, schema: Any, *, include_raw: bool = False,
                               **kwargs: Any) -> Any:
        async def call(messages: list[BaseMessage]) -> Any:
            prompt = str(messages[-1].content)
            self.calls.append((schema.__name__, prompt))
            payload = self.respond(schema.__name__, prompt)
            text = json.dumps(payload)
            raw = AIMessage(content=f"Here you go:\n```json\n{text}\n```" if self.raw_only
                            else text,
                            usage_metadata={"input_tokens": 100, "output_tokens": 20,
                                            "total_tokens": 120})
            parsed = None if self.raw_only else schema.model_validate(payload)
            if include_raw:
                return {"raw": raw, "parsed": parsed, "parsing_error": None}
            return parsed

        return RunnableLambda(call)


def shown_ids(prompt: str) -> list[str]:
    return re.findall(r"^\[(P\d+)\]", prompt, re.M)


def map_points(prompt: str) -> dict[str, Any]:
    """One point per passage shown, plus one citing an id the model was never shown."""
    ids = shown_ids(prompt)
    points = [{"point": f"Point from {i}.", "passage_ids": [i, "P99"]} for i in ids]
    points.append({"point": "An invented result.", "passage_ids": ["P77"]})
    return {"points": points}


def line(speaker: str, kind: str, text: str, ids: list[str], section: str = "Main"
         ) -> dict[str, Any]:
    return {"speaker": speaker, "kind": kind, "text": text, "section": section,
            "passage_ids": ids}


INTRO = line("Alex", "intro", "Welcome! Today: Attention Is All You Need and Deep Residual "
             "Learning for Image Recognition.", [], "Introduction")
OUTRO = line("Alex", "outro", "Thanks for listening. Our sources were Attention Is All You "
             "Need by Vaswani and colleagues, 2017, and Deep Residual Learning for Image "
             "Recognition by He and colleagues, 2016.", ["P1", "P3"], "Credits")
BODY = [
    line("sam", "question", "So what is the Transformer?", ["P1"]),
    line("Alex", "content", "It is an architecture based solely on attention mechanisms, "
         "dispensing with recurrence and convolutions entirely.", ["P1", "P42"]),
    line("Narrator", "content", "It reaches a BLEU score of 28.4 on English-to-German "
         "translation.", ["P2"]),
    line("Sam", "content", "It also cures the common cold.", ["P55"]),
    line("Alex", "transition", "Let's move on.", []),
    line("Sam", "content", "Residual learning eases the training of networks that are much "
         "deeper than before.", ["[P3]", "p4", "P3"]),
]
SCRIPT = {"title": "Two papers", "lines": [INTRO, *BODY, OUTRO]}
KEPT = [INTRO, *BODY[:3], *BODY[4:], OUTRO]  # the line citing only P55 is dropped


def scripted(script: dict[str, Any], revised: dict[str, Any] | None = None) -> Responder:
    def respond(schema: str, prompt: str) -> dict[str, Any]:
        if schema == "KeyPoints":
            return map_points(prompt)
        if "The target is about" in prompt:
            return revised or script
        return script

    return respond


# --- fake model tests ---------------------------------------------------------------------------

async def test_citations_speakers_and_quotes(settings: Settings) -> None:
    inp = writer_input(seconds_of([ln["text"] for ln in KEPT]))
    fake = FakeChat(respond=scripted(SCRIPT))
    out = await write_with_llm(inp, settings, fake)

    assert [c[0] for c in fake.calls] == ["KeyPoints", "KeyPoints", "Script"]  # no revision
    assert out.writer == "llm" and out.model == "test-model"
    assert [ln.seq for ln in out.lines] == list(range(len(KEPT)))
    by_text = {ln.text: ln for ln in out.lines}
    assert "It also cures the common cold." not in by_text
    assert any("dropped content line" in n for n in out.notes)

    valid = set(CHUNKS.values())
    for ln in out.lines:
        assert ln.citations and set(ln.citations) <= valid
        assert 1 <= len(ln.citations) <= 3
        assert ln.speaker in {"Alex", "Sam"}
        cited_text = " ".join(p.text for p in PASSAGES if p.chunk_id in ln.citations)
        assert ln.quote and ln.quote in cited_text

    transformer = by_text[BODY[1]["text"]]
    assert transformer.citations == ["attn-0"]  # P42 was invented: dropped
    assert transformer.quote.startswith("We propose a new simple network architecture")
    assert by_text[BODY[5]["text"]].citations == ["resnet-0", "resnet-5"]  # normalised, deduped
    assert by_text[BODY[0]["text"]].speaker == "Sam"  # case-insensitive match
    assert by_text[BODY[2]["text"]].speaker == "Alex"  # unknown speaker, round-robin
    assert any("'Narrator' is not a host" in n for n in out.notes)
    intro = out.lines[0]
    assert intro.kind == "intro" and intro.citations == ["attn-0", "resnet-0"]  # titles named
    assert by_text["Let's move on."].citations == ["resnet-0"]  # borrowed from the next line
    assert out.lines[-1].kind == "outro" and out.lines[-1].citations == ["attn-0", "resnet-0"]
    assert out.lines[0].meta["episode_title"] == "Two papers"

    # the map prompts show each passage once, by short id, never a chunk id
    map_prompts = [p for name, p in fake.calls if name == "KeyPoints"]
    assert sorted(i for p in map_prompts for i in shown_ids(p)) == ["P1", "P2", "P3", "P4"]
    assert all("attn-0" not in p for p in map_prompts)
    assert any("dropped 1 key point" in n for n in out.notes)
    reduce_prompt = fake.calls[2][1]
    assert "P99" not in reduce_prompt and "P77" not in reduce_prompt
    assert "do not invent numbers, names or results" in reduce_prompt
    words, _ = word_budget(inp, inp.target_seconds)
    assert f"about {words} words" in reduce_prompt
    assert "- Alex (host)" in reduce_prompt and "- Sam (co-host)" in reduce_prompt

    assert out.usage == {"calls": 3, "input_tokens": 300, "output_tokens": 60, "total_tokens": 360}
    assert set(out.prompt_hashes) == {"map", "reduce", "revise"}
    assert out.prompt_hashes == PROMPT_HASHES


WORDS = "one two three four five six seven eight nine ten eleven twelve".split()


async def test_too_short_triggers_one_revision(settings: Settings) -> None:
    extra = [line("Sam" if i % 2 else "Alex", "content",
                  "Residual nets with a depth of up to 152 layers were evaluated on the "
                  f"ImageNet dataset, and that is point {WORDS[i]} of our long discussion.",
                  ["P4"], "Results") for i in range(12)]
    longer = {"title": "Two papers, longer", "lines": [INTRO, *BODY, *extra, OUTRO]}
    target = seconds_of([ln["text"] for ln in [INTRO, *BODY, *extra, OUTRO]
                         if ln is not BODY[3]])
    inp = writer_input(target)
    fake = FakeChat(respond=scripted(SCRIPT, revised=longer))
    out = await write_with_llm(inp, settings, fake)

    assert [c[0] for c in fake.calls] == ["KeyPoints", "KeyPoints", "Script", "Script"]
    revise_prompt = fake.calls[-1][1]
    want, _ = word_budget(inp, target)
    assert "Lengthen it by about" in revise_prompt and f"about {want} words" in revise_prompt
    assert '"passage_ids": [\n    "P1"' in revise_prompt or '"P1"' in revise_prompt
    assert abs(estimate_seconds(out.lines, inp) - target) <= 0.1 * target
    assert out.lines[-1].kind == "outro"
    assert out.lines[0].meta["episode_title"] == "Two papers, longer"
    assert out.usage["calls"] == 4


async def test_too_long_is_trimmed_but_keeps_outro(settings: Settings) -> None:
    long_body = []
    for i in range(20):
        long_body.append(line("Sam", "question", f"What about part {i}?", ["P2"]))
        long_body.append(line("Alex", "content", "The big transformer model outperforms the "
                              "best previously reported models by more than 2.0 BLEU on "
                              "English-to-German translation.", ["P2"]))
    script = {"title": "Too long", "lines": [INTRO, *long_body, OUTRO]}
    target = 60.0
    inp = writer_input(target)
    fake = FakeChat(respond=scripted(script))  # the "revision" ignores the request
    out = await write_with_llm(inp, settings, fake)

    assert [c[0] for c in fake.calls][-2:] == ["Script", "Script"]
    assert "Shorten it by about" in fake.calls[-1][1]
    assert estimate_seconds(out.lines, inp) <= target * 1.1
    assert out.lines[0].kind == "intro" and out.lines[-1].kind == "outro"
    assert out.lines[-1].text == OUTRO["text"]
    assert out.lines[-2].kind == "content"  # no dangling question before the outro
    assert [ln.seq for ln in out.lines] == list(range(len(out.lines)))
    assert any("trimmed" in n for n in out.notes)


async def test_map_batches_and_per_source_reduce(settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_writer, "MAP_BUDGET_CHARS", 300)
    monkeypatch.setattr(llm_writer, "REDUCE_BUDGET_CHARS", 100)

    def respond(schema: str, prompt: str) -> dict[str, Any]:
        if schema == "KeyPoints":
            return map_points(prompt)
        if "the opening part" in prompt:
            return {"title": "Part one", "lines": [INTRO, BODY[1]]}
        return {"title": "Part two", "lines": [BODY[5], OUTRO]}

    inp = writer_input(seconds_of([INTRO["text"], BODY[1]["text"], BODY[5]["text"],
                                   OUTRO["text"]]))
    fake = FakeChat(respond=respond)
    out = await write_with_llm(inp, settings, fake)
    names = [c[0] for c in fake.calls]
    assert names.count("KeyPoints") == 4  # every passage alone under a tiny budget
    assert names.count("Script") == 2
    reduces = [p for n, p in fake.calls if n == "Script"]
    assert "the opening part" in reduces[0] and "no outro" in reduces[0]
    assert "the closing part" in reduces[1] and "Transformer" not in reduces[1]
    assert [ln.kind for ln in out.lines] == ["intro", "content", "content", "outro"]
    assert any("wrote 2 parts" in n for n in out.notes)


async def test_unparsed_reply_is_salvaged_and_missing_outro_added(settings: Settings) -> None:
    script = {"title": "No outro", "lines": [INTRO, BODY[1]]}
    inp = writer_input(seconds_of([INTRO["text"], BODY[1]["text"]]) + 25)
    fake = FakeChat(respond=scripted(script), raw_only=True)
    out = await write_with_llm(inp, settings, fake)
    assert out.lines[-1].kind == "outro"
    assert "Attention Is All You Need" in out.lines[-1].text
    assert out.lines[-1].citations == ["attn-0", "resnet-0"]
    assert any("no outro" in n for n in out.notes)


async def test_invalid_reply_raises_retryable(settings: Settings) -> None:
    fake = FakeChat(respond=lambda schema, prompt: {"nonsense": True}, raw_only=True)
    with pytest.raises(Retryable, match="valid KeyPoints"):
        await write_with_llm(writer_input(60), settings, fake)
    assert len(fake.calls) >= 2  # retried once per map call


async def test_interleaved_sources_map_in_source_order(settings: Settings) -> None:
    inp = writer_input(60, passages=[RESNET_PASSAGES[1], ATTN_PASSAGES[0], RESNET_PASSAGES[0],
                                     ATTN_PASSAGES[1]])
    fake = FakeChat(respond=scripted(SCRIPT))
    await write_with_llm(inp, settings, fake)
    maps = [shown_ids(p) for n, p in fake.calls if n == "KeyPoints"]
    assert sorted(maps) == [["P2", "P4"], ["P3", "P1"]]  # one call per source, in seq order


async def test_bad_inputs(settings: Settings) -> None:
    fake = FakeChat(respond=scripted(SCRIPT))
    with pytest.raises(BadInput, match="no passages"):
        await write_with_llm(writer_input(60, passages=[]), settings, fake)
    with pytest.raises(BadInput, match="1-4 hosts"):
        await write_with_llm(writer_input(60, names=("A", "B", "C", "D", "E")), settings, fake)
    assert fake.calls == []


def test_prompt_hashes_are_template_hashes() -> None:
    assert all(re.fullmatch(r"[0-9a-f]{16}", h) for h in PROMPT_HASHES.values())
    assert prompt_hash("abc") == "ba7816bf8f01cfea"
    assert len(set(PROMPT_HASHES.values())) == 3


# --- configuration ------------------------------------------------------------------------------

async def test_not_configured(tmp_path: Path) -> None:
    bare = load_settings(home=tmp_path)
    with pytest.raises(ConfigError) as err:
        chat_model(bare)
    assert str(err.value) == NOT_CONFIGURED == (
        "no LLM configured: set LIBRARIAN_LLM_BASE_URL and LIBRARIAN_LLM_MODEL "
        "(and LIBRARIAN_LLM_API_KEY if the server needs one)")
    with pytest.raises(ConfigError, match="no LLM configured"):
        await write_with_llm(writer_input(60), bare)
    with pytest.raises(ConfigError, match="no LLM configured"):
        await check_reachable(bare)


def test_chat_model_settings(settings: Settings) -> None:
    model = chat_model(settings, temperature=0.1, seed=3)
    assert model.model_name == "test-model"  # type: ignore[attr-defined]
    assert model.temperature == 0.1 and model.seed == 3  # type: ignore[attr-defined]
    assert model.max_retries == 2 and model.use_responses_api is False  # type: ignore[attr-defined]
    assert str(model.openai_api_base) == "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]


async def test_check_reachable(settings: Settings) -> None:
    seen: list[httpx.Request] = []

    def ok(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": [{"id": "test-model"}]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(ok)) as client:
        await check_reachable(settings, client)
    assert str(seen[0].url) == "http://127.0.0.1:9/v1/models"
    assert seen[0].headers["authorization"] == "Bearer sk-test-123"

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refused)) as client:
        with pytest.raises(Retryable, match=r"http://127\.0\.0\.1:9/v1/models"):
            await check_reachable(settings, client)
    for status, error in ((401, ConfigError), (404, ConfigError), (503, Retryable)):
        transport = httpx.MockTransport(lambda r, s=status: httpx.Response(s))
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(error, match="127.0.0.1:9/v1/models"):
                await check_reachable(settings, client)


# --- the HTTP path, against recorded OpenAI-compatible responses --------------------------------

def recorded(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def reply_lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    message = body["choices"][0]["message"]
    args = message["tool_calls"][0]["function"]["arguments"] if message.get("tool_calls") \
        else message["content"]
    return list(json.loads(args)["lines"])


async def test_http_json_schema(settings: Settings) -> None:
    requests: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/chat/completions"
        assert request.headers["authorization"] == "Bearer sk-test-123"
        body = json.loads(request.content)
        requests.append(body)
        name = body["response_format"]["json_schema"]["name"]
        prompt = body["messages"][-1]["content"]
        if name == "KeyPoints":
            which = "attention" if "Attention Is All You Need" in prompt else "resnet"
            return httpx.Response(200, json=recorded(f"map_json_schema_{which}.json"))
        return httpx.Response(200, json=recorded("reduce_json_schema.json"))

    reduce_body = recorded("reduce_json_schema.json")
    kept = [ln["text"] for ln in reply_lines(reduce_body) if "P40" not in ln["passage_ids"]]
    inp = writer_input(seconds_of(kept))
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        model = chat_model(settings, http_async_client=client)
        out = await write_with_llm(inp, settings, model, method="json_schema")

    assert len(requests) == 3
    for body in requests:
        assert body["model"] == "test-model"
        assert body["seed"] == 7 and body["temperature"] == 0.3
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert "do not invent numbers, names or results" in body["messages"][0]["content"]
        assert body["response_format"]["type"] == "json_schema"
        assert "tools" not in body
    schemas = [b["response_format"]["json_schema"] for b in requests]
    assert [s["name"] for s in schemas] == ["KeyPoints", "KeyPoints", "Script"]  # map, then reduce
    assert "passage_ids" in json.dumps(schemas[0]["schema"])
    map_prompts = " ".join(b["messages"][1]["content"] for b in requests[:2])
    assert all(f"[P{i}]" in map_prompts for i in range(1, 5))
    reduce_prompt = requests[2]["messages"][1]["content"]
    assert "28.4 BLEU" in reduce_prompt and "P12" not in reduce_prompt and "P9" not in reduce_prompt

    texts = [ln.text for ln in out.lines]
    assert texts == kept
    assert all(ln.citations and set(ln.citations) <= set(CHUNKS.values()) for ln in out.lines)
    bleu = next(ln for ln in out.lines if "28.4 BLEU" in ln.text)
    assert bleu.citations == ["attn-7"]  # P31 was invented
    assert "28.4" in bleu.quote and bleu.quote in ATTN_PASSAGES[1].text
    assert out.lines[0].citations == ["attn-0", "resnet-0"]
    assert next(ln for ln in out.lines if ln.kind == "transition").citations == ["resnet-0"]
    assert next(ln for ln in out.lines if "152 layers" in ln.text).speaker == "Alex"
    assert out.lines[-1].kind == "outro"
    assert out.usage == {"calls": 3, "input_tokens": 412 + 398 + 903,
                         "output_tokens": 96 + 121 + 488,
                         "total_tokens": 412 + 96 + 398 + 121 + 903 + 488}
    assert out.model == "test-model"


async def test_http_function_calling(settings: Settings) -> None:
    requests: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        requests.append(body)
        name = body["tools"][0]["function"]["name"]
        assert body["tool_choice"] == {"type": "function", "function": {"name": name}}
        return httpx.Response(200, json=recorded(
            "map_tool_calls.json" if name == "KeyPoints" else "reduce_tool_calls.json"))

    kept = [ln["text"] for ln in reply_lines(recorded("reduce_tool_calls.json"))]
    inp = writer_input(seconds_of(kept), passages=RESNET_PASSAGES, names=("Riley",),
                       style="lecture")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        model = chat_model(settings, http_async_client=client)
        out = await write_with_llm(inp, settings, model, method="function_calling")

    assert [b["tools"][0]["function"]["name"] for b in requests] == ["KeyPoints", "Script"]
    assert all(b["model"] == "test-model" and "response_format" not in b for b in requests)
    assert "single-voice monologue by Riley" in requests[1]["messages"][1]["content"]
    assert [ln.text for ln in out.lines] == kept
    assert all(ln.speaker == "Riley" for ln in out.lines)
    results = next(ln for ln in out.lines if "3.57" in ln.text)
    assert results.citations == ["resnet-5"]  # P5 was invented
    assert results.quote.startswith("An ensemble of these residual nets achieves 3.57%")
    assert isinstance(out.lines[0], Line) and out.lines[0].citations == ["resnet-0"]
    assert out.usage["total_tokens"] == 455 + 84 + 760 + 212


async def test_grounding_moves_or_drops_citations(settings: Settings) -> None:
    """Citations are assigned in code: a line whose numbers are in another passage cites that
    one; a line with a number or name in no passage is dropped."""
    moved = line("Sam", "content", "The big model reached a BLEU score of 28.4.", ["P1"])
    invented = line("Sam", "content", "It reached 41.8 BLEU on English-to-French.", ["P2"])
    named = line("Alex", "content", "Google Brain trained it for 3.5 days.", ["P2"])
    script = {"title": "t", "lines": [INTRO, BODY[1], moved, invented, named, OUTRO]}
    kept = [INTRO, BODY[1], moved, OUTRO]
    inp = writer_input(seconds_of([ln["text"] for ln in kept]))
    out = await write_with_llm(inp, settings, FakeChat(respond=scripted(script)))

    by_text = {ln.text: ln for ln in out.lines}
    assert by_text[moved["text"]].citations == ["attn-7"]
    assert "28.4" in by_text[moved["text"]].quote
    assert invented["text"] not in by_text and named["text"] not in by_text
    assert sum("is in no passage" in n for n in out.notes) == 2
    assert any("citation moved to P2" in n for n in out.notes)
    assert llm_writer.facts_of(named["text"], inp.hosts) == {"brain", "3.5"}  # opener skipped
    assert llm_writer.facts_of("Alex: the Transformer, BLEU 28.4.", inp.hosts) == {
        "transformer", "bleu", "28.4"}


def completion(content: str = "", tool_calls: list[dict[str, Any]] | None = None
               ) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "test-model",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


POINTS = {"points": [{"point": "BLEU 28.4.", "passage_ids": ["P1"]}]}


async def test_structured_mode_fallback(settings: Settings) -> None:
    """A server that ignores a forced tool call (or refuses tools with an error) is asked with a
    JSON response format next, and the mode it refused is remembered for its base URL; a call
    written as text in a {"name", "arguments"} envelope is parsed without falling back."""
    from langchain_core.messages import HumanMessage

    from tools import llm

    kinds: list[str] = []
    answer = {"tools": "ignore"}

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        kind = "tools" if "tools" in body else body["response_format"]["type"]
        kinds.append(kind)
        if kind == "tools" and answer["tools"] == "error":
            return httpx.Response(500, json={"error": {"message": "tools are not supported"}})
        if kind == "tools" and answer["tools"] == "ignore":
            return httpx.Response(200, json=completion("Here are the points: BLEU 28.4."))
        if kind == "tools":
            text = json.dumps({"name": "KeyPoints", "arguments": POINTS})
            return httpx.Response(200, json=completion(f"```json\n{text}\n```"))
        assert body["response_format"].get("schema", {}).get("title") == "KeyPoints"
        return httpx.Response(200, json=completion(json.dumps(POINTS)))

    msgs = [HumanMessage("List the key points of P1 as JSON.")]
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        model = chat_model(settings, http_async_client=client)
        for mode, want in (("ignore", ["tools", "json_object", "json_object"]),
                           ("error", ["tools", "json_object", "json_object"]),
                           ("envelope", ["tools", "tools"])):
            llm._REFUSED.clear()
            kinds.clear()
            answer["tools"] = mode
            for _ in range(2):
                got, usage = await llm.structured_call(model, llm_writer.KeyPoints, msgs)
                assert got.points[0].passage_ids == ["P1"] and usage["total_tokens"] == 15
            assert kinds[-len(want):] == want, (mode, kinds)
            assert ("function_calling" in llm._REFUSED.get(settings.llm_base_url or "", set())
                    ) == (mode != "envelope")
    llm._REFUSED.clear()


def test_a_line_cut_mid_sentence_keeps_its_whole_sentences() -> None:
    """A reply cut at the schema's maxLength (llama.cpp enforces it) or at max_tokens ends
    mid-clause: the unfinished tail is not spoken."""
    from agents.llm_writer import whole_sentences

    cut = ("The corpus has rich metadata and abstracts. Full text is annotated with inline "
           "mentions of citations, figures, and tables, each")
    assert whole_sentences(cut) == "The corpus has rich metadata and abstracts."
    assert whole_sentences("It has 8.1M papers.") == "It has 8.1M papers."
    assert whole_sentences("no sentence end at all") == "no sentence end at all"
    assert whole_sentences('They said "it works." Then it') == 'They said "it works."'
