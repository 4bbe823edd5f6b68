"""The `pdf` and `webpage` eval suites: extraction scored against the corpus manifests.

Cases come from `tests/fixtures/papers.yaml` (the five original papers), `datasets/imports.yaml`
(three saved pages) and the corpus manifest `../shared/testdata/corpus/MANIFEST.json` (papers
and pages from other publishers, with third-party ground truth in its `truth/`). Every case is
scored on what its expectations hold: title exact, authors F1, heading recall, reference-count
error, abstract found, licence right, language right.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DATASETS = Path(__file__).resolve().parent / "datasets"
CORPUS = REPO.parent / "shared" / "testdata" / "corpus"


def _squash(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).lower()
    return re.sub(r"[^a-z0-9]+", "", text)


def _name_key(name: str) -> tuple[str, str]:
    """(surname, first initial) of a printed name, accents and case folded."""
    words = [w for w in re.split(r"[\s.]+", unicodedata.normalize("NFKD", name)) if w]
    words = [re.sub(r"[^a-z-]", "", w.lower()) for w in words]
    words = [w for w in words if w]
    if not words:
        return ("", "")
    return (words[-1], words[0][:1])


def authors_f1(got: Sequence[str], want: Sequence[str]) -> float:
    """F1 of extracted against expected author names; a name matches on the same squashed
    letters, or on the same surname and first initial ("S Morad Hameed" ~ "S. M. Hameed")."""
    if not want:
        return 1.0 if not got else 0.0
    if not got:
        return 0.0
    left = list(want)
    hits = 0
    for name in got:
        for cand in left:
            if _squash(name) == _squash(cand) or _name_key(name) == _name_key(cand):
                left.remove(cand)
                hits += 1
                break
    precision, recall = hits / len(got), hits / len(want)
    return 0.0 if not hits else 2 * precision * recall / (precision + recall)


def abstract_found(got: str | None, first_sentence: str) -> float:
    """1.0 when the extracted abstract starts with (or holds, near its start) the expected
    first sentence's first 80 letters and digits."""
    want = _squash(first_sentence)[:80]
    have = _squash(got or "")
    return float(bool(want) and want in have[: len(want) + 200])


def licence_right(got: str | None, want: str | None) -> float:
    """1.0 for the expected SPDX id; a licence the document names without a version counts
    when its family matches ("CC-BY" for "CC-BY-4.0": the permissions are the same);
    `want` None means the document states no licence, so none must be found."""
    if want is None:
        return float(got is None)
    if got is None:
        return 0.0
    return float(got == want or re.sub(r"-\d\.\d$", "", want) == got)


def language_right(got: str | None, want: str | None) -> float | None:
    if not want:
        return None
    return float((got or "").split("-")[0].lower() == want.lower())


def heading_recall(got: Iterable[str], want: Sequence[str]) -> float:
    if not want:
        return 1.0
    found = {_squash(h) for h in got}
    return sum(1 for h in want if _squash(h) in found) / len(want)


def reference_count_error(got: int, want: int) -> float:
    if want <= 0:
        return float(got > 0)
    return abs(got - want) / want


def _title_exact(got: str, want: str) -> float:
    def norm(t: str) -> str:
        t = unicodedata.normalize("NFC", t).replace("\u2019", "'").replace("\u2010", "-")
        return " ".join(t.split())
    return float(norm(got) == norm(want))


def pdf_cases() -> list[dict[str, Any]]:
    """Every PDF case: {name, path, title, authors, headings, references, abstract, licence,
    language} (a key is None when the expectation is not known)."""
    spec = yaml.safe_load((DATASETS / "imports.yaml").read_text(encoding="utf-8"))["papers"]
    fixtures = yaml.safe_load((REPO / spec["expectations"]).read_text(encoding="utf-8"))
    folder = (REPO / spec["folder"]).resolve()
    out = [{"name": name, "path": folder / name, "title": w["title"],
            "authors": w.get("authors"), "headings": w["headings"],
            "references": w["references"], "abstract": w.get("abstract_start"),
            "licence": w.get("licence"), "licence_known": "licence" in w,
            "language": w.get("language"), "figures": w.get("figures")}
           for name, w in sorted(fixtures.items())]
    return out + [c for c in _manifest() if c["kind"] == "pdf"]


def webpage_cases() -> list[dict[str, Any]]:
    items = yaml.safe_load((DATASETS / "imports.yaml").read_text(encoding="utf-8"))["webpages"]
    out = [{"name": Path(i["file"]).name, "path": (REPO / i["file"]).resolve(),
            "title": i["title"], "headings": i["headings"], "licence": i.get("licence"),
            "licence_known": "licence" in i, "language": i.get("language"), "authors": None,
            "abstract": i.get("abstract_start"), "references": None} for i in items]
    return out + [c for c in _manifest() if c["kind"] == "html"]


def _manifest() -> list[dict[str, Any]]:
    path = CORPUS / "MANIFEST.json"
    if not path.is_file():
        return []
    return [{"name": Path(e["file"]).name, "kind": e["kind"], "path": CORPUS / e["file"],
             "title": e["title"], "authors": e.get("authors"),
             "headings": e.get("section_headings") or [], "references": e.get("reference_count"),
             "abstract": e.get("abstract_first_sentence"), "licence": e.get("licence"),
             "licence_known": True, "language": e.get("language")}
            for e in json.loads(path.read_text(encoding="utf-8"))]


def score(doc: Any, want: dict[str, Any]) -> dict[str, float | None]:
    """The extraction metrics of one document against one case's expectations."""
    from evals.metrics import caption_recall

    summary = doc.abstract
    if doc.kind == "webpage" and not summary:  # else the page's lead paragraph stands for it
        summary = next((b.text for b in doc.blocks if b.kind == "paragraph"), None)
    values: dict[str, float | None] = {
        "title_exact": _title_exact(doc.title, want["title"]),
        "authors_f1": authors_f1(doc.authors, want["authors"]) if want["authors"] else None,
        "heading_recall": heading_recall([h.text for h in doc.headings], want["headings"]),
        "abstract_found": abstract_found(summary, want["abstract"])
        if want["abstract"] else None,
        "licence_right": licence_right(doc.licence, want["licence"])
        if want["licence_known"] else None,
        "language_right": language_right(doc.language, want["language"]),
    }
    if want["references"] is not None:
        values["reference_count_error"] = reference_count_error(len(doc.references),
                                                                want["references"])
    if want.get("figures"):
        values["caption_recall"] = caption_recall({f.label: f.caption for f in doc.figures},
                                                  want["figures"])
    return values
