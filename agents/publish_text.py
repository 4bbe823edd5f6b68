"""What a publication says: title, description or caption, tags, from the artifact's script
and its attribution (each source's reference with its link and licence) and the AI disclosure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agents.brand import BrandVoice
from agents.publish_requests import PublishParams
from tools.licences import get_licence

YT_TITLE_MAX = 100
YT_DESCRIPTION_MAX = 4900  # 5000 bytes in the API; some slack for multi-byte characters
YT_TAGS_MAX_CHARS = 450
TT_CAPTION_MAX = 2200
SHORTS_MAX_S = 60.0
WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{3,}")
COMMON = frozenset("""about above after again against also among because been before being
below between both could does doing down during each from further have having here into itself
just more most once only other over same should some such than that their theirs them then
there these they this those through under until very were what when where which while whom why
will with would your yours paper study using based towards toward video short""".split())
DISCLOSURE = ("Made with AI: the narration is synthesised and the visuals assembled "
              "automatically from the sources below (Librarian).")


@dataclass(frozen=True)
class Publication:
    title: str
    description: str
    tags: list[str]
    is_short: bool


def is_short(artifact: dict[str, Any]) -> bool:
    """A YouTube Short: portrait and under a minute."""
    meta = artifact.get("meta") or {}
    w, h = meta.get("width") or 0, meta.get("height") or 0
    return bool(h > w > 0 and (artifact.get("duration_s") or 0) < SHORTS_MAX_S)


def _tags(title: str, topic: str | None, sources: list[dict[str, Any]], limit: int) -> list[str]:
    """Distinct significant words of the title, topic and source titles, most frequent first."""
    counts: dict[str, int] = {}
    for n, text in enumerate([topic or "", title, *(s.get("title") or "" for s in sources)]):
        for w in WORD.findall(text):
            if w.lower() not in COMMON:
                counts[w.lower()] = counts.get(w.lower(), 0) + (3 if n < 2 else 1)
    return sorted(counts, key=lambda w: -counts[w])[:limit]


def credit_lines(sources: list[dict[str, Any]]) -> list[str]:
    """One line per source: its reference (with DOI or URL) and its licence's name and link."""
    lines = []
    for s in sources:
        lic = get_licence(s.get("licence"))
        link = f" {lic.url}" if lic.url else ""
        lines.append(f"- {s['reference']} ({lic.name}{link})")
    return lines


def summary(segments: list[dict[str, Any]], limit: int = 280) -> str:
    """The first narrated content lines, up to `limit` characters."""
    out = ""
    for g in segments:
        text = " ".join(str(g.get("text") or "").split())
        if not text or (g.get("kind") not in (None, "content", "line", "scene")):
            continue
        if len(out) + len(text) > limit:
            break
        out = f"{out} {text}".strip()
    return out


def _branded_tags(tags: list[str], brand: BrandVoice) -> list[str]:
    return list(dict.fromkeys([*brand.use_words, *tags]))


def for_youtube(artifact: dict[str, Any], attribution: dict[str, Any],
                params: PublishParams, brand: BrandVoice | None = None) -> Publication:
    brand = brand or BrandVoice()
    short = is_short(artifact)
    title = (params.title or artifact["title"])[:YT_TITLE_MAX - 8]
    if short:
        title += " #Shorts"
    topic = (artifact.get("recipe") or {}).get("parameters", {}).get("topic")
    tags = _branded_tags(params.tags or _tags(title, topic, attribution["sources"], 12), brand)
    while len(",".join(tags)) > YT_TAGS_MAX_CHARS:
        tags = tags[:-1]
    parts = [brand.intro, params.intro or summary(attribution["segments"]), DISCLOSURE]
    if params.credits:
        parts.append("Sources:\n" + "\n".join(credit_lines(attribution["sources"])))
    parts.append(brand.outro)
    if short:
        parts.append("#Shorts")
    text = "\n\n".join(p for p in parts if p).replace("<", "(").replace(">", ")")
    return Publication(title, text[:YT_DESCRIPTION_MAX], tags, short)


def credit_line(sources: list[dict[str, Any]]) -> str:
    """'Credit: Webb et al. (2017), CC-BY-4.0; ...' for a caption."""
    return "Credit: " + "; ".join(f"{s['in_text']}, {s.get('licence') or 'licence unknown'}"
                                  for s in sources)


def for_tiktok(artifact: dict[str, Any], attribution: dict[str, Any],
               params: PublishParams, brand: BrandVoice | None = None) -> Publication:
    brand = brand or BrandVoice()
    title = params.title or artifact["title"]
    topic = (artifact.get("recipe") or {}).get("parameters", {}).get("topic")
    tags = _branded_tags(params.tags or _tags(title, topic, attribution["sources"], 6), brand)
    hashtags = " ".join("#" + re.sub(r"[^0-9A-Za-z_]", "", t) for t in tags)
    parts = [brand.intro, params.intro or title, "AI-generated from the cited sources.",
             hashtags]
    if params.credits:
        parts.append(credit_line(attribution["sources"]))
        links = [s["link"] for s in attribution["sources"] if s.get("link")]
        parts += links
    parts.append(brand.outro)
    return Publication(title, "\n".join(p for p in parts if p)[:TT_CAPTION_MAX], tags,
                       is_short(artifact))
