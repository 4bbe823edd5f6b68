"""Checkpoints are read with a strict msgpack allowlist: the classes our graphs' states hold load
as themselves without LangGraph's warning; any other class stays raw data, never imported."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import BaseModel

from agents.script import Host, Line
from graphs.chat import chat_types
from graphs.registry import state_types
from storage.checkpoints import checkpointer, serde
from storage.settings import load_settings


class Intruder(BaseModel):
    """A class no graph state names (a tampered checkpoint could name anything)."""

    command: str


def test_allowlist_holds_the_state_classes_of_every_graph() -> None:
    names = {f"{c.__module__}.{c.__qualname__}" for c in chat_types()}
    assert {"graphs.narrated.Plan", "graphs.narrated.Measured", "agents.script.Line",
            "agents.script.Host", "agents.director.Scene",
            "agents.requests.PodcastRequest"} <= names
    assert Intruder not in state_types()


def test_state_classes_round_trip_without_warning(caplog: pytest.LogCaptureFixture) -> None:
    strict = serde(state_types())
    value = {"lines": [Line(speaker="A", text="Hello.", citations=["c1"])],
             "hosts": [Host(name="A", role="host", voice_id="piper:x")]}
    with caplog.at_level(logging.WARNING):
        back = strict.loads_typed(strict.dumps_typed(value))
    assert back == value and isinstance(back["lines"][0], Line)
    assert not [r for r in caplog.records if "deserializ" in r.getMessage().lower()]


def test_an_unknown_class_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    strict = serde(state_types())
    with caplog.at_level(logging.WARNING):
        back = strict.loads_typed(strict.dumps_typed({"x": Intruder(command="rm -rf /")}))
    assert back == {"x": {"command": "rm -rf /"}}  # data only: the class was not imported
    assert any("Blocked deserialization" in r.getMessage() for r in caplog.records)


async def test_the_checkpointer_uses_the_strict_serialiser(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", _env_file=None)
    async with checkpointer(settings, state_types()) as saver:
        back = saver.serde.loads_typed(saver.serde.dumps_typed(
            [Line(speaker="A", text="Hi."), Intruder(command="x")]))
    assert isinstance(back[0], Line) and back[1] == {"command": "x"}
