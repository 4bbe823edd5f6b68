"""An owner's brand voice: tone, words to use and avoid, intro and outro lines, accent colour
and logo. Publishing puts the intro and outro around the description and the words to use
among the tags, and refuses a title or intro holding a word to avoid; the video renderer takes
the logo when a request names none, and the accent colour for its rules, headings and bars."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agents.requests import ID

Word = Annotated[str, Field(min_length=1, max_length=40)]
Line = Annotated[str, Field(max_length=300)]


class BrandVoice(BaseModel):
    """`GET/PUT /api/config/brand-voice`."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)
    tone: Annotated[str, Field(max_length=200)] | None = None
    """How the channel sounds, e.g. 'warm, precise, no hype'."""
    use_words: Annotated[list[Word], Field(max_length=30)] = []
    """Words to use: added to every publication's tags."""
    avoid_words: Annotated[list[Word], Field(max_length=30)] = []
    """Words never to publish: a title or intro holding one is refused."""
    intro: Line | None = None
    """A line opening every description and caption."""
    outro: Line | None = None
    """A line closing every description and caption."""
    accent_color: Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")] | None = None
    """Accent colour, #RRGGBB."""
    logo: ID | None = None
    """Id of an image you uploaded (`POST /api/assets`): the videos' corner logo by default."""


def avoided(profile: BrandVoice, text: str) -> list[str]:
    """The words to avoid that the text holds (whole words, any case)."""
    return [w for w in profile.avoid_words
            if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.I)]


def rgb(color: str) -> tuple[int, int, int]:
    """'#22AA88' -> (34, 170, 136)."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
