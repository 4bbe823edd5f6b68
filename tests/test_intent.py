"""The offline chat parser: the phrasing eval, units, typos, thread context; the LLM path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from agents import intent, llm_intent
from evals.chat_phrasings import DATASET, score
from storage.settings import load_settings


def test_phrasing_eval_maps_at_least_95_percent_exactly() -> None:
    accuracy, misses = score()
    print(f"chat phrasings: {accuracy:.1%} exact")
    import yaml

    assert len(yaml.safe_load(DATASET.read_text())) >= 40
    assert accuracy >= 0.95, misses


@pytest.mark.parametrize(("text", "minutes"), [
    ("5 min", 5), ("five minutes", 5), ("~300 seconds", 5), ("90s", 1.5), ("half an hour", 30),
    ("a 10-minute one", 10), ("2.5 mins", 2.5), ("an hour", 60), ("45 seconds", 0.75)])
def test_length_units(text: str, minutes: float) -> None:
    assert intent.parse_minutes(text) == pytest.approx(minutes)


def test_typos_are_fixed_but_real_words_kept() -> None:
    assert intent.normalise("make a podcst of 3 minuts with two hots") == (
        "make a podcast of 3 minutes with two hosts")
    assert intent.normalise("most of these") == "most of these"


def test_again_reuses_sources_and_parameters() -> None:
    ctx = {"format": "podcast", "sources": ["id-1", "id-2"], "params": {"minutes": 1, "hosts": 2}}
    req = intent.understand("make it again but with three hosts", [], ctx)
    assert (req.action, req.format, req.sources) == ("make", "podcast", ["id-1", "id-2"])
    assert req.params == {"minutes": 1, "hosts": 3}


def test_written_formats_are_recognised_with_their_counts() -> None:
    req = intent.understand("make flashcards from these", ["a.pdf"])
    assert req.format == "flashcards" and req.runnable and req.sources == ["a.pdf"]
    req = intent.understand("quiz me with ten questions on the LongEval paper")
    assert (req.format, req.params, req.refs) == ("quiz", {"questions": 10}, ["longeval"])
    req = intent.understand("a study guide about corpus filtering from the S2ORC paper")
    assert req.format == "report" and req.params == {"style": "study-guide",
                                                     "topic": "corpus filtering"}
    req = intent.understand("give me a slide deck with 8 slides from these", ["a.pdf"])
    assert (req.format, req.params) == ("slides", {"slides": 8})


class ToolModel(GenericFakeChatModel):
    """A fake chat model that 'calls tools': bind_tools returns itself."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:  # noqa: ARG002
        return self


class BrokenModel(ToolModel):
    async def ainvoke(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG002
        raise ConnectionError("LLM server down")


def config_with(model: Any) -> Any:
    return {"configurable": {"chat_model": model}}


async def test_llm_tool_call_becomes_the_request(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    call = AIMessage(content="", tool_calls=[{
        "name": "MakeExport", "id": "c1",
        "args": {"format": "podcast", "sources": ["these", "the Vespa paper"], "minutes": 3,
                 "hosts": 3, "style": "interview"}}])
    model = ToolModel(messages=iter([call]))
    req = await llm_intent.understand(settings, config_with(model), "three hosts, 3 minutes",
                                      ["/x/a.pdf"], {}, [])
    assert req.by == "llm"
    assert (req.action, req.format, req.sources) == ("make", "podcast", ["/x/a.pdf"])
    assert req.refs == ["the Vespa paper"]
    assert req.params == {"minutes": 3, "hosts": 3, "style": "interview"}
    ask = AIMessage(content="", tool_calls=[{"name": "SearchLibrary", "id": "c2",
                                             "args": {"question": "what is S2ORC?"}}])
    req = await llm_intent.understand(settings, config_with(ToolModel(messages=iter([ask]))),
                                      "what is S2ORC?", [], {}, [])
    assert (req.action, req.question, req.by) == ("ask", "what is S2ORC?", "llm")


async def test_llm_failure_falls_back_to_the_parser(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    msg = "make a 2 minute podcast from these"
    for model in (BrokenModel(messages=iter([])),  # server error
                  ToolModel(messages=iter([AIMessage(content="Sure! Here is a podcast.")])),
                  ToolModel(messages=iter([AIMessage(content="", tool_calls=[{
                      "name": "MakeExport", "id": "c", "args": {"hosts": 9}}])]))):  # invalid
        req = await llm_intent.understand(settings, config_with(model), msg, ["a.pdf"], {}, [])
        assert req.by == "parser"
        assert (req.action, req.sources, req.params) == ("make", ["a.pdf"], {"minutes": 2})


async def test_a_tool_call_written_as_text_counts(tmp_path: Path) -> None:
    """Small local models write the call as JSON text (fenced, tagged or bare); it still counts,
    and a reply with no call at all is asked once more with tool_choice=required."""
    settings = load_settings(home=tmp_path)
    fenced = AIMessage(content='```json\n{"name": "MakeExport", "arguments": {"format": "video",'
                               ' "sources": ["a.pdf"], "minutes": 2, "hosts": null}}\n```')
    tagged = AIMessage(content='<tool_call>\n{"name": "SearchLibrary", "arguments": '
                               '{"question": "what is BM25?"}}\n</tool_call>')
    later = [AIMessage(content="Happy to help!"), AIMessage(content="", tool_calls=[{
        "name": "ListLibrary", "id": "c3", "args": {}}])]
    cases = [([fenced], ("make", "video")), ([tagged], ("ask", None)), (later, ("list", None))]
    for replies, (action, fmt) in cases:
        req = await llm_intent.understand(settings, config_with(ToolModel(messages=iter(replies))),
                                          "whatever", ["/x/a.pdf"], {}, [])
        assert (req.by, req.action) == ("llm", action)
        if fmt:
            assert req.format == fmt and req.params == {"minutes": 2}
            assert req.sources == ["/x/a.pdf"]
    req = await llm_intent.understand(settings, config_with(ToolModel(messages=iter([tagged]))),
                                      "", [], {}, [])
    assert req.question == "what is BM25?"
    unknown = AIMessage(content='{"name": "DeleteEverything", "arguments": {}}')
    req = await llm_intent.understand(
        settings, config_with(ToolModel(messages=iter([unknown, unknown]))),
        "make a 2 minute podcast from these", ["a.pdf"], {}, [])
    assert req.by == "parser"
