"""The narrator: voices for the hosts, their measured pace, and speech for every line.

Each line is synthesised into a WAV cached by hash(text, voice, settings), so a job resumed in
the middle of narration synthesises only the lines not yet done. Offline voices (Kokoro, Piper)
run one line at a time through one shared model session per engine (espeak is not thread-safe;
onnxruntime already uses both cores); cloud voices run a few requests in parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.script import Host, Line
from storage import cancel
from storage.settings import Settings
from tools import tts

CLOUD_PARALLEL = 4


def choose_voices(n: int, requested: list[str] | None, settings: Settings,
                  language: str | None = None) -> list[tts.Voice]:
    """n distinct voices speaking `language`; offline, a second host gets a clearly distinct
    voice."""
    return tts.pick_voices(n, requested, settings, language=language or "en")


def voice_by_id(voice_id: str, settings: Settings) -> tts.Voice:
    for v in tts.list_voices(settings):
        if v.id == voice_id:
            return v
    return tts.pick_voices(1, [voice_id], settings)[0]


async def seconds_per_word(hosts: list[Host], settings: Settings) -> dict[str, float]:
    """Measured pace of each host's voice (cached per voice after the first measurement)."""
    out = {}
    for h in hosts:
        wpm = await asyncio.to_thread(tts.words_per_minute, voice_by_id(h.voice_id, settings),
                                      settings)
        out[h.name] = 60.0 / wpm
    return out


async def narrate(lines: list[Line], hosts: list[Host], settings: Settings,
                  on_progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """A cached WAV per line, in line order: [{seq, path, voice_id}]."""
    voices = {h.name: voice_by_id(h.voice_id, settings) for h in hosts}
    done = 0
    results: dict[int, dict[str, Any]] = {}
    sem = asyncio.Semaphore(1)
    cloud = asyncio.Semaphore(CLOUD_PARALLEL)

    async def one(line: Line) -> None:
        nonlocal done
        voice = voices[line.speaker]
        gate = cloud if voice.provider == "elevenlabs" else sem
        async with gate:
            cancel.check()  # a cancelled job stops within a line
            path: Path = await asyncio.to_thread(tts.synthesize_to_file, line.text, voice, settings)
        results[line.seq] = {"seq": line.seq, "path": str(path), "voice_id": voice.id}
        done += 1
        if on_progress:
            on_progress(done, len(lines))

    await asyncio.gather(*(one(line) for line in lines))
    return [results[line.seq] for line in lines]
