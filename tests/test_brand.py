"""The brand's accent colour in the rendered video cards."""

from __future__ import annotations

from pathlib import Path


def test_the_brand_accent_colours_the_video_cards() -> None:
    from agents.brand import rgb
    from tools import video

    visual = {"kind": "title", "title": "Reefs", "subtitle": "What warms them"}
    teal = rgb("#22AA88")
    branded = video.draw_card(visual, video.Style(540, 960, accent=teal)).convert("RGB")
    plain = video.draw_card(visual, video.Style(540, 960)).convert("RGB")
    assert teal in {c for _, c in branded.getcolors(1 << 20)}
    assert teal not in {c for _, c in plain.getcolors(1 << 20)}
    assert video.ACCENT in {c for _, c in plain.getcolors(1 << 20)}


async def test_the_llm_writer_is_told_the_brand_tone_and_words_to_avoid(tmp_path: Path) -> None:
    from agents.llm_writer import write_with_llm
    from storage.settings import load_settings
    from tests.test_llm_writer import KEPT, SCRIPT, FakeChat, scripted, seconds_of, writer_input

    settings = load_settings(home=tmp_path, _env_file=None, llm_base_url="http://127.0.0.1:9/v1",
                             llm_model="test-model", llm_api_key="sk-test-123")
    inp = writer_input(seconds_of([ln["text"] for ln in KEPT]))
    inp.brief.tone, inp.brief.avoid_words = "warm, precise, no hype", ["miracle", "shocking"]
    fake = FakeChat(respond=scripted(SCRIPT))
    await write_with_llm(inp, settings, fake)
    reduce_prompt = fake.calls[2][1]
    assert "Tone: warm, precise, no hype." in reduce_prompt
    assert "Never use these words: miracle, shocking." in reduce_prompt
    plain = FakeChat(respond=scripted(SCRIPT))
    await write_with_llm(writer_input(seconds_of([ln["text"] for ln in KEPT])), settings, plain)
    assert "Tone:" not in plain.calls[2][1] and "Never use" not in plain.calls[2][1]
