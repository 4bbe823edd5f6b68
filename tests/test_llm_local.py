"""The LLM paths against a real local model: llama.cpp's OpenAI-compatible server.

llama.cpp's own C++ server (the prebuilt xllamacpp wheel, run by scripts/llama_server.py) serves
Qwen2.5-Coder-1.5B-Instruct Q4_K_M on loopback with 2 threads; `make test` installs both
(`scripts/models.py qwen llama-server`, cached). These tests check plumbing, schema validity and
grounding, never the prose; requests are small so the module runs in a few minutes on 2 cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agents import llm_intent
from agents.llm_writer import KeyPoints, facts_of, write_with_llm
from agents.script import Passage
from storage.settings import Settings, load_settings
from tests.conftest import free_port
from tests.test_llm_writer import ATTN_PASSAGES, writer_input
from tools import llm

ROOT = Path(__file__).resolve().parents[1]
MODEL = Path(load_settings().models_dir) / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
ALIAS = "qwen2.5-coder-1.5b"
INSTALL = "run: make test-models (python scripts/models.py qwen llama-server)"


def wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while True:
        if proc.poll() is not None:
            err = log.read_text(errors="replace")[-800:]
            pytest.fail(f"llama.cpp server exited ({proc.returncode}); {INSTALL}\n{err}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"llama.cpp server not healthy within {limit_s:.0f} s; see {log}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama.cpp's server on a free loopback port, 2 threads, passive OpenMP waiting."""
    assert MODEL.is_file(), f"no local model at {MODEL}; {INSTALL}"
    port = free_port()
    env = {**os.environ, "OMP_WAIT_POLICY": "passive"}
    cmd = [sys.executable, str(ROOT / "scripts" / "llama_server.py"), "--model", str(MODEL),
           "--host", "127.0.0.1", "--port", str(port), "--threads", "2", "--ctx", "4096",
           "--alias", ALIAS]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}", log, 180)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def local(server: str, tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path, llm_base_url=server, llm_model=ALIAS)


@pytest.fixture
async def model(local: Settings) -> AsyncIterator[Callable[[int], BaseChatModel]]:
    """A chat model factory on this test's own HTTP client (the OpenAI client's shared one is
    bound to the first test's event loop); deterministic, generous timeout for a busy CPU."""
    async with httpx.AsyncClient() as client:
        yield lambda max_tokens: llm.chat_model(local, temperature=0.0, max_tokens=max_tokens,
                                                timeout=900, http_async_client=client)


MESSAGES = [SystemMessage("List key points. Cite passage ids exactly as shown."),
            HumanMessage("[P1]\n" + ATTN_PASSAGES[1].text + "\n\nList 2 key points of P1.")]


@pytest.mark.parametrize("method", llm.METHODS)
async def test_every_structured_mode_gives_a_valid_object(
        model: Callable[[int], BaseChatModel], method: llm.StructuredMethod) -> None:
    """Each mode, asked first, ends in a schema-valid object: parsed, salvaged, or (a forced
    tool call this server ignores) fallen back to the next mode."""
    chat = model(200)
    llm._REFUSED.pop(str(chat.openai_api_base), None)  # type: ignore[attr-defined]
    points, usage = await llm.structured_call(chat, KeyPoints, MESSAGES, method=method)
    assert isinstance(points, KeyPoints) and points.points
    assert all(p.point.strip() for p in points.points)
    assert usage.get("total_tokens", 0) > 0


async def test_chat_tool_calling(local: Settings, model: Callable[[int], BaseChatModel]) -> None:
    """The front door's typed tools against the real server: the model's call becomes the
    Request (by the LLM, not the offline parser)."""
    chat = model(llm_intent.MAX_TOKENS)
    req = await llm_intent.understand(local, {"configurable": {"chat_model": chat}},
                                      "make a 3 minute podcast from these", ["/tmp/a.pdf"],
                                      {}, [])
    assert req.by == "llm"
    assert req.action == "make" and req.format == "podcast"
    assert req.sources == ["/tmp/a.pdf"]


def cited_text(passages: list[Passage], chunk_ids: list[str]) -> str:
    by_id = {p.chunk_id: p for p in passages}
    return " ".join(" ".join([by_id[c].text, by_id[c].source_title or "",
                              " ".join(by_id[c].source_authors), str(by_id[c].source_year or ""),
                              by_id[c].section or ""]) for c in chunk_ids).lower()


async def test_llm_writer_lines_are_grounded(local: Settings,
                                             model: Callable[[int], BaseChatModel]) -> None:
    """One map call and one writing call (plus at most one revision), in the mode this server
    honours; every number and name of every kept line is stated by the passages the code cited
    for it, and each line's quote comes from them."""
    inp = writer_input(25, passages=ATTN_PASSAGES, names=("Alex",), style="lecture")
    out = await write_with_llm(inp, local, model(800), method="json_object")
    assert out.writer == "llm" and out.lines and 2 <= out.usage["calls"] <= 3
    assert out.usage.get("total_tokens", 0) > 0
    assert out.lines[-1].kind == "outro"
    ids = {p.chunk_id for p in ATTN_PASSAGES}
    for line in out.lines:
        assert line.citations and set(line.citations) <= ids, line
        missing = [f for f in facts_of(line.text, inp.hosts)
                   if f not in cited_text(ATTN_PASSAGES, line.citations)]
        assert not missing, (line.text, missing)
        assert line.quote and line.quote.lower() in cited_text(ATTN_PASSAGES, line.citations)




async def test_llm_judge_grades_a_script(local: Settings,
                                         model: Callable[[int], BaseChatModel]) -> None:
    """The content suite's LLM judge against the real server: two grades in [0, 1] and a
    reason, in whichever structured mode the server honours."""
    from agents.script import Line
    from evals.llm_judge import judge_script

    p = ATTN_PASSAGES[1]
    lines = [Line(speaker="Alex", kind="question", text="How well does it translate?",
                  citations=[p.chunk_id]),
             Line(speaker="Sam", text=p.text.split(". ")[0] + ".", citations=[p.chunk_id])]
    got = await judge_script(local, lines, ATTN_PASSAGES, model(200))
    assert 0.0 <= got["llm_faithfulness"] <= 1.0 and 0.0 <= got["llm_engagingness"] <= 1.0
    assert got["usage"].get("total_tokens", 0) > 0


async def test_translator_turns_portuguese_lines_into_spanish(
        local: Settings, model: Callable[[int], BaseChatModel]) -> None:
    """The translate step against the real server: one call, every line in Spanish (py3langid on
    the result), citations and quotes kept, the original noted."""
    from agents import translator
    from agents.script import Line
    from tools.language import detect

    text = ("Os municípios distribuem pasta de dente nas unidades básicas de saúde, mas a "
            "concentração de flúor solúvel nem sempre é suficiente para prevenir a cárie.")
    p = Passage(chunk_id="pt-1", source_id="src-pt", seq=0, text=text,
                source_title="Dentifrício fluoretado")
    lines = [Line(speaker="Alex", text=text, citations=["pt-1"], quote=text),
             Line(speaker="Sam", text="As amostras foram coletadas em dezesseis unidades de "
                  "saúde da cidade de Manaus e analisadas com um eletrodo específico.",
                  citations=["pt-1"])]
    out, usage = await translator.translate(lines, [p], {"src-pt": "pt"}, "pt", "es", local,
                                            model(400))
    assert usage["calls"] == 1 and usage.get("total_tokens", 0) > 0
    for before, after in zip(lines, out, strict=True):
        assert after.citations == before.citations and after.quote == before.quote
        assert after.meta["translated_from"]["text"] == before.text
        assert after.text.strip() and after.text != before.text
    got = detect(" ".join(line.text for line in out))
    assert got is not None and got[0] == "es", [line.text for line in out]
