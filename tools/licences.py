"""Licences: what a source allows, how to recognise a stated licence, and how licences combine.

Ids are SPDX-style (`CC-BY-4.0`, `CC-BY-NC-SA-3.0`, `CC0-1.0`, `MIT`, `Apache-2.0`) plus
`CC-BY`-style family ids for a Creative Commons licence named without a version, `PD` (public
domain), `all-rights-reserved` and `unknown`. A permission that is not known is `None`, and
unknown is never treated as free.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Licence:
    """One licence and what it permits (`None` = not known)."""

    id: str
    name: str
    url: str | None
    commercial_use_allowed: bool | None
    attribution_required: bool | None
    share_alike_required: bool | None
    derivatives_allowed: bool | None


@dataclass
class Verdict:
    """What a work generated from several sources may do, given the sources' licences.

    `blocking_commercial` and `unknown_sources` are positions in the list given to `combine`.
    """

    licences: list[str]
    commercial_use_allowed: bool | None
    attribution_required: bool | None
    share_alike_required: bool | None
    derivatives_allowed: bool | None
    blocking_commercial: list[int] = field(default_factory=list)
    unknown_sources: list[int] = field(default_factory=list)
    share_alike_conflict: list[str] = field(default_factory=list)  # distinct share-alike ids
    notes: list[str] = field(default_factory=list)


_CC_NAMES = {"BY": "Attribution", "SA": "ShareAlike", "NC": "NonCommercial",
             "ND": "NoDerivatives"}
_CC_FAMILIES = ("BY", "BY-SA", "BY-NC", "BY-ND", "BY-NC-SA", "BY-NC-ND")
_CC_VERSIONS = ("1.0", "2.0", "2.5", "3.0", "4.0")
_CC_SUFFIX = {"1.0": "Generic", "2.0": "Generic", "2.5": "Generic", "3.0": "Unported",
              "4.0": "International"}


def _cc(family: str, version: str | None) -> Licence:
    parts = family.split("-")
    name = "Creative Commons " + "-".join(_CC_NAMES[p] for p in parts)
    lid = f"CC-{family}"
    url = None
    if version:
        name += f" {version} {_CC_SUFFIX[version]}"
        lid += f"-{version}"
        url = f"https://creativecommons.org/licenses/{family.lower()}/{version}/"
    return Licence(
        id=lid, name=name, url=url,
        commercial_use_allowed="NC" not in parts,
        attribution_required=True,
        share_alike_required="SA" in parts,
        derivatives_allowed="ND" not in parts,
    )


def _build() -> dict[str, Licence]:
    table: dict[str, Licence] = {}
    for family in _CC_FAMILIES:
        table[f"CC-{family}"] = _cc(family, None)
        for version in _CC_VERSIONS:
            table[f"CC-{family}-{version}"] = _cc(family, version)
    extra = [
        Licence("CC0-1.0", "Creative Commons Zero 1.0 Universal (public domain dedication)",
                "https://creativecommons.org/publicdomain/zero/1.0/", True, False, False, True),
        Licence("PD", "Public domain", None, True, False, False, True),
        Licence("MIT", "MIT License", "https://opensource.org/license/mit", True, True, False,
                True),
        Licence("Apache-2.0", "Apache License 2.0", "https://www.apache.org/licenses/LICENSE-2.0",
                True, True, False, True),
        Licence("all-rights-reserved", "All rights reserved", None, False, True, False, False),
        Licence("unknown", "Unknown licence", None, None, None, None, None),
    ]
    table.update({lic.id: lic for lic in extra})
    return table


LICENCES: dict[str, Licence] = _build()
_BY_LOWER = {k.lower(): v for k, v in LICENCES.items()}
_ALIASES = {"public-domain": "pd", "cc0": "cc0-1.0", "all-rights-reserved.": "all-rights-reserved",
            "apache-2": "apache-2.0", "none": "unknown", "": "unknown"}


def get_licence(licence_id: str | None) -> Licence:
    """The `Licence` for an id (case-insensitive; `CC BY 4.0` spellings accepted), else unknown."""
    if not licence_id:
        return LICENCES["unknown"]
    key = re.sub(r"[\s_]+", "-", licence_id.strip()).lower()
    key = _ALIASES.get(key, key)
    if key in _BY_LOWER:
        return _BY_LOWER[key]
    found = detect_licence(licence_id)
    return LICENCES[found[0]] if found else LICENCES["unknown"]


# --- detection -------------------------------------------------------------------------------

_SEP = r"[\s_\-]*"
_URL_RE = re.compile(
    r"creativecommons\.org/(?:licenses|licences)/(by(?:-nc)?(?:-sa|-nd)?)/(\d(?:\.\d)?)",
    re.IGNORECASE,
)
_ZERO_RE = re.compile(
    r"creativecommons\.org/publicdomain/zero/1\.0|\bCC0\b|\bCC[\s-]?Zero\b"
    r"|Creative\s+Commons\s+Zero",
    re.IGNORECASE,
)
_SHORT_RE = re.compile(  # case-sensitive: "CC BY-SA 4.0", "CC-BY", "cc-by-nc" (not "CC by design")
    r"(?<![A-Za-z0-9])(?:CC[\s\-]?(BY(?:[\s\-]+(?:NC|SA|ND)(?![A-Za-z]))*)"
    r"|cc-(by(?:-(?:nc|sa|nd)(?![A-Za-z]))*))(?![A-Za-z])"
    r"(?:[\s\-]*v?(\d(?:\.\d)?)(?!\d))?",
)
_LONG_RE = re.compile(
    r"Creative" + _SEP + r"Commons" + _SEP + r"(?:\(CC\)" + _SEP + r")?Attribution"
    r"((?:" + _SEP + r"(?:Non" + _SEP + r"Commercial|Share" + _SEP + r"Alike|No" + _SEP
    + r"Deriv(?:ative)?s?))*)"
    r"(?:" + _SEP + r"(\d\.\d))?",
    re.IGNORECASE,
)
_VERSION_AFTER_RE = re.compile(
    r"^[\s_\-,:(]*(?:licen[cs]e[\s_\-,:(]*)?(?:\(CC[\s\-]?BY[^)]{0,12}\)[\s,]*)?"
    r"(?:version\s*)?v?(\d\.\d)",
    re.IGNORECASE,
)
_VERSION_WORD_RE = re.compile(r"\bversion\s*(\d\.\d)", re.IGNORECASE)
_PD_RE = re.compile(
    r"(?:(?:is|are|was|were|in(?:to)?\s+the|to\s+the|dedicated\s+to\s+the)\s+public\s+domain\b"
    r"|public\s+domain\s+(?:mark|dedication)|creativecommons\.org/publicdomain/mark)",
    re.IGNORECASE,
)
_MIT_RE = re.compile(r"\b(?:the\s+)?MIT\s+Licen[cs]e\b|\bunder\s+the\s+MIT\b", re.IGNORECASE)
_APACHE_RE = re.compile(r"Apache\s+Licen[cs]e,?\s*(?:Version\s*)?2\.0|\bApache-2\.0\b",
                        re.IGNORECASE)
_ARR_RE = re.compile(r"\ball\s+rights\s+reserved\b", re.IGNORECASE)
_WINDOW = 300


def _family(tokens: str) -> str | None:
    """`BY-NC-SA`-style family from words such as 'NonCommercial ShareAlike' or 'nc sa'."""
    t = re.sub(r"[\s_\-]+", "", tokens).lower()
    nc = "nc" in t or "noncommercial" in t
    sa = "sa" in t or "sharealike" in t
    nd = "nd" in t or "noderiv" in t
    if sa and nd:
        return None
    return "BY" + ("-NC" if nc else "") + ("-SA" if sa else "") + ("-ND" if nd else "")


def _cc_id(family: str, version: str | None) -> str:
    if version and "." not in version:
        version += ".0"
    if version in _CC_VERSIONS:
        return f"CC-{family}-{version}"
    return f"CC-{family}"


def _evidence(text: str, start: int, end: int) -> str:
    """The sentence (at most ~400 characters) around a match, whitespace collapsed."""
    lo = max(0, start - 160)
    cut = max(text.rfind(". ", lo, start), text.rfind("\n\n", lo, start))
    left = cut + 2 if cut != -1 else lo
    stop = text.find(". ", end, end + 200)
    right = stop + 1 if stop != -1 else min(len(text), end + 120)
    return " ".join(text[left:right].split())


Match = tuple[int, int, str, int, int]  # (rank, position, licence id, start, end)


def detect_licence(text: str) -> tuple[str, str] | None:
    """The licence a text states, as (id, evidence), or None when it states none.

    Creative Commons statements win over other licences, a versioned statement over an
    unversioned one; 'All rights reserved' counts only when no open licence is stated.
    """
    if not text:
        return None
    found = _cc_matches(text)
    if not found:
        found = [(2, m.start(), lid, m.start(), m.end())
                 for rx, lid in ((_PD_RE, "PD"), (_MIT_RE, "MIT"), (_APACHE_RE, "Apache-2.0"))
                 for m in rx.finditer(text)]
    if not found:
        found = [(3, m.start(), "all-rights-reserved", m.start(), m.end())
                 for m in _ARR_RE.finditer(text)]
    if not found:
        return None
    _, _, lid, start, end = min(found)
    return lid, _evidence(text, start, end)


def _cc_matches(text: str) -> list[Match]:
    """Creative Commons statements: licence URLs, CC0, long and short names (rank 0 when the
    version is known, 1 when not)."""
    found: list[Match] = []
    for m in _URL_RE.finditer(text):
        family = _family(m.group(1)[2:])
        if family:
            found.append((0, m.start(), _cc_id(family, m.group(2)), m.start(), m.end()))
    found += [(0, m.start(), "CC0-1.0", m.start(), m.end()) for m in _ZERO_RE.finditer(text)]
    for rx in (_LONG_RE, _SHORT_RE):
        for m in rx.finditer(text):
            if rx is _SHORT_RE:
                family, version = _family((m.group(1) or m.group(2))[2:]), m.group(3)
            else:
                family, version = _family(m.group(1)), m.group(2)
            if not family:
                continue
            lid = _cc_id(family, version or _version_after(text, m.end(), family))
            found.append((0 if lid != f"CC-{family}" else 1, m.start(), lid, m.start(), m.end()))
    return found


def _version_after(text: str, end: int, family: str) -> str | None:
    """A version stated shortly after an unversioned CC name ('... License (CC-BY) 3.0')."""
    window = text[end:end + _WINDOW]
    m = _VERSION_AFTER_RE.match(window)
    if m:
        return m.group(1)
    for u in _URL_RE.finditer(window):
        if _family(u.group(1)[2:]) == family:
            return u.group(2)
    cut = re.search(r"Creative\s+Commons|\bCC[\s\-]?BY", window, re.IGNORECASE)
    m2 = _VERSION_WORD_RE.search(window[: cut.start()] if cut else window)
    return m2.group(1) if m2 else None


# --- combining -------------------------------------------------------------------------------


def _all_true(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def _any_true(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def combine(ids: Sequence[str | None]) -> Verdict:
    """The licence verdict for a work generated from sources with these licence ids.

    Commercial use and derivatives are allowed only if every source allows them (unknown if
    any source is unknown and none forbids); attribution and share-alike are required if any
    source requires them. Mixing different share-alike licences is reported as a conflict.
    """
    lics = [get_licence(i) for i in ids]
    if not lics:
        return Verdict([], None, None, None, None, notes=["no sources"])
    verdict = Verdict(
        licences=[lic.id for lic in lics],
        commercial_use_allowed=_all_true([lic.commercial_use_allowed for lic in lics]),
        attribution_required=_any_true([lic.attribution_required for lic in lics]),
        share_alike_required=_any_true([lic.share_alike_required for lic in lics]),
        derivatives_allowed=_all_true([lic.derivatives_allowed for lic in lics]),
        blocking_commercial=[i for i, lic in enumerate(lics)
                             if lic.commercial_use_allowed is False],
        unknown_sources=[i for i, lic in enumerate(lics) if lic.id == "unknown"],
    )
    share_alike = sorted({lic.id for lic in lics if lic.share_alike_required})
    if len(share_alike) > 1:
        verdict.share_alike_conflict = share_alike
        verdict.notes.append("sources use different share-alike licences: "
                             + ", ".join(share_alike))
    if verdict.unknown_sources:
        verdict.notes.append(f"{len(verdict.unknown_sources)} source(s) have an unknown licence")
    if verdict.blocking_commercial:
        verdict.notes.append("commercial use is not allowed by: "
                             + ", ".join(sorted({lics[i].id for i in verdict.blocking_commercial})))
    if verdict.derivatives_allowed is False:
        verdict.notes.append("a source does not allow derivative works")
    return verdict


def apply_stated_licence(doc: Any) -> None:
    """Set `doc.licence`/`licence_evidence` from what the document states, unless already set.

    Looks at the extractor's `licence_text` (a licence note, footer or link) first, then at
    the first blocks of text.
    """
    if doc.licence:
        return
    hint = doc.metadata.get("licence_text") or "\n".join(b.text for b in doc.blocks[:60])
    found = detect_licence(hint)
    if found:
        doc.licence, doc.licence_evidence = found
