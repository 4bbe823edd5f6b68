"""How a source is cited: its year, APA-like author list and reference, in-text citation."""

from __future__ import annotations

import re
from typing import Any

from storage.models import Source
from tools.licences import get_licence


def year_of(published: str | None) -> str | None:
    m = re.search(r"(?:19|20)\d{2}", published or "")
    return m.group(0) if m else None


def _surname(name: str) -> str:
    name = str(name).strip()
    if "," in name:
        return name.split(",")[0].strip()
    return name.split()[-1] if name.split() else name


def _initials(name: str) -> str:
    name = str(name).strip()
    given = name.split(",", 1)[1] if "," in name else " ".join(name.split()[:-1])
    return " ".join(f"{p[0]}." for p in re.split(r"[\s.\-]+", given) if p and p[0].isalpha())


def apa_authors(authors: list[Any]) -> str:
    """'Webb, A. E., Walsh, T. A., & O'Connell, M. J.' (APA: up to 20 names)."""
    names = [f"{_surname(a)}, {_initials(a)}".rstrip(", ") for a in authors if str(a).strip()]
    if not names:
        return ""
    if len(names) > 20:
        names = names[:19] + ["...", names[-1]]
        return ", ".join(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", & " + names[-1]


def in_text(src: Source) -> str:
    """'Webb et al. (2017)', 'Lo & Wang (2020)', 'Title (n.d.)'."""
    names = [_surname(a) for a in src.authors or [] if str(a).strip()]
    year = year_of(src.published) or "n.d."
    if not names:
        who = src.title[:60]
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} & {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who} ({year})"


def reference(src: Source) -> str:
    """An APA-like reference: authors (year). Title. Site. DOI or URL. Licence."""
    authors = apa_authors(src.authors or [])
    year = year_of(src.published) or "n.d."
    parts = [f"{authors} ({year})." if authors else f"({year}).", f"{src.title.rstrip('.')}."]
    if src.site:
        parts.append(f"{src.site}.")
    if src.doi:
        parts.append(f"https://doi.org/{src.doi}")
    elif src.url:
        parts.append(src.url)
    lic = get_licence(src.licence_id)
    parts.append(f"Licence: {lic.id if lic.id != 'unknown' else 'not stated'}.")
    return " ".join(parts)
