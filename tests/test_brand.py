"""The brand's accent colour in the rendered video cards."""

from __future__ import annotations


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
