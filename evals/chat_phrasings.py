"""Score the offline chat parser on evals/datasets/chat_phrasings.yaml (exact-match accuracy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from agents.intent import Request, understand

DATASET = Path(__file__).parent / "datasets" / "chat_phrasings.yaml"


def context_after(req: Request, attachments: list[str]) -> dict[str, Any]:
    """The thread context a turn leaves (names stand in for resolved library ids)."""
    if req.action != "make":
        return {}
    return {"format": req.format, "sources": req.sources + req.refs, "params": req.params,
            "attachments": attachments}


def run_case(case: dict[str, Any]) -> Request:
    context: dict[str, Any] = {}
    req = Request()
    for turn in case["turns"]:
        atts = list(turn.get("attachments") or [])
        req = understand(turn["message"], atts, context)
        context = context_after(req, atts) or context
    return req


def observed(req: Request) -> dict[str, Any]:
    params = {k: v for k, v in req.params.items() if k != "import_only"}
    return {"action": req.action, "format": req.format,
            "sources": sorted(s.lower() for s in req.sources + req.refs), "params": params}


def expected(case: dict[str, Any]) -> dict[str, Any]:
    exp = case["expect"]
    params = {k: (str(v) if k == "topic" else v) for k, v in (exp.get("params") or {}).items()}
    if "topic" in params:
        params["topic"] = params["topic"].lower()
    return {"action": exp["action"], "format": exp.get("format"),
            "sources": sorted(str(s).lower() for s in exp.get("sources") or []),
            "params": params}


def score(path: Path = DATASET) -> tuple[float, list[dict[str, Any]]]:
    """Fraction of cases parsed exactly right, and the misses (id, expected, observed)."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    misses = []
    for case in cases:
        obs, exp = observed(run_case(case)), expected(case)
        if obs != exp:
            misses.append({"id": case["id"], "expected": exp, "observed": obs})
    return (len(cases) - len(misses)) / len(cases), misses


if __name__ == "__main__":
    acc, missed = score()
    for m in missed:
        print(m)
    print(f"accuracy {acc:.1%}")
