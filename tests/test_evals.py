"""The eval runner's pieces: judge calibration, the gate, the report, the LangSmith upload."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest
import requests

from evals import run, upload
from evals.judge import calibrate, confusion, judge_support


def test_judge_separates_quotes_from_unrelated_claims() -> None:
    passage = ("VESPA is written in python and Perl and is designed to run within a UNIX "
               "environment.")
    quote = judge_support("VESPA is written in python and Perl.", [passage])
    unrelated = judge_support("Ducks are waterfowl of the family Anatidae.", [passage])
    assert 0.0 <= unrelated < 0.3 < 0.8 < quote <= 1.0
    assert judge_support("anything", []) == 0.0


def test_calibrate_picks_the_separating_threshold() -> None:
    scores = [0.1, 0.3, 0.55, 0.7, 0.8, 0.9]
    labels = [False, False, False, True, True, True]
    cal = calibrate(scores, labels)
    assert 0.55 < cal.threshold <= 0.7 and cal.accuracy == 1.0 and cal.pairs == 6
    assert confusion(scores, labels, 0.5) == (pytest.approx(5 / 6), 0.75, 1.0)
    with pytest.raises(ValueError):
        calibrate([], [])


def test_calibration_on_the_labelled_pairs() -> None:
    cal = run.calibration()
    assert cal.pairs >= 40 and cal.accuracy >= 0.85


def test_suites_for() -> None:
    assert run.suites_for("fast") == ([n for n in run.SUITES if n not in run.FULL_ONLY], True)
    assert "search" in run.FULL_ONLY and "search" not in run.suites_for("fast")[0]
    assert run.suites_for("full") == (run.SUITES, False)
    assert run.suites_for("pdf") == (["pdf"], False)
    with pytest.raises(ValueError):
        run.suites_for("nope")
    fast = run.podcast_cases(fast=True)
    assert fast and len(run.podcast_cases(fast=False)) >= 6 > len(fast)


THRESHOLDS = {"podcast": {"support_rate": {"min": 0.95, "margin": 0.02},
                          "length_error": {"max": 0.10, "margin": 0.03}},
              "webpage": {"title_exact": {"margin": 0.0}}}


def report(**metrics: Any) -> dict[str, Any]:
    return {"suite": "fast", "created": "2026-01-01T00:00:00Z", "seconds": 1.0,
            "judge": {"threshold": 0.6, "accuracy": 0.9, "precision": 0.9, "recall": 0.9,
                      "pairs": 47},
            "cases": [{"suite": "podcast", "case": "p1", "metrics": metrics, "error": None,
                       "details": {}}]}


def test_gate_thresholds_baseline_and_errors() -> None:
    assert run.gate(report(support_rate=1.0, length_error=0.05), THRESHOLDS, None) == []
    problems = run.gate(report(support_rate=0.9, length_error=0.2), THRESHOLDS, None)
    assert len(problems) == 2 and "below 0.95" in problems[0] and "above 0.1" in problems[1]
    base = report(support_rate=1.0, length_error=0.01)
    assert run.gate(report(support_rate=0.99, length_error=0.03), THRESHOLDS, base) == []
    worse = run.gate(report(support_rate=0.97, length_error=0.05), THRESHOLDS, base)
    assert len(worse) == 2 and all("baseline" in p for p in worse)
    broken = report()
    broken["cases"][0]["error"] = "job failed: no line supported"
    assert run.gate(broken, THRESHOLDS, base) == ["podcast/p1: job failed: no line supported"]
    web = {"cases": [{"suite": "webpage", "case": "w", "metrics": {"title_exact": 0.0},
                      "error": None}]}
    was = {"cases": [{"suite": "webpage", "case": "w", "metrics": {"title_exact": 1.0}}]}
    assert run.gate(web, THRESHOLDS, was) and not run.gate(web, THRESHOLDS, web)


def test_markdown_has_a_table_per_suite_and_the_verdict() -> None:
    md = run.markdown(report(support_rate=1.0, length_error=0.05), ["podcast/p1: bad"])
    assert "## podcast" in md and "| case | support_rate | length_error |" in md
    assert "| p1 | 1.000 | 0.050 |" in md and "FAIL" in md and "- podcast/p1: bad" in md


# --- LangSmith -----------------------------------------------------------------------------------

def test_no_key_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import langsmith

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a LangSmith client was created without a key")

    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    monkeypatch.setattr(langsmith, "Client", refuse)
    monkeypatch.setattr(requests.Session, "send", refuse)
    assert upload.upload(report(support_rate=1.0)) is None


class Recorder(requests.adapters.BaseAdapter):
    """Answers LangSmith's REST calls with constructed responses and records them."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, Any]] = []
        self.dataset = str(uuid.uuid4())
        self.project = str(uuid.uuid4())

    def send(self, request: requests.PreparedRequest,  # type: ignore[override]
             **kwargs: Any) -> requests.Response:
        path = str(urlparse(request.url or "").path)
        body = request.body
        if isinstance(body, bytes):
            try:
                body = json.loads(body)
            except ValueError:
                pass
        self.calls.append((request.method or "", path, body))
        ds = {"id": self.dataset, "name": "librarian-evals/fast", "created_at":
              "2026-01-01T00:00:00Z", "modified_at": "2026-01-01T00:00:00Z",
              "data_type": "kv", "tenant_id": str(uuid.uuid4())}
        if path.endswith("/info"):
            payload: Any = {"version": "0.10", "batch_ingest_config": {}}
        elif path.endswith("/datasets") and request.method == "GET":
            payload = []
        elif path.endswith("/datasets"):
            payload = ds
        elif path.endswith("/sessions"):
            payload = {"id": self.project, "name": "exp", "start_time": "2026-01-01T00:00:00Z",
                       "tenant_id": str(uuid.uuid4()), "reference_dataset_id": self.dataset}
        elif "/examples" in path:
            ex = body if isinstance(body, dict) else {}
            payload = {"id": ex.get("id", str(uuid.uuid4())), "dataset_id": self.dataset,
                       "inputs": ex.get("inputs", {}), "created_at": "2026-01-01T00:00:00Z",
                       "modified_at": "2026-01-01T00:00:00Z"}
        elif path.endswith("/feedback"):
            fb = body if isinstance(body, dict) else {}
            payload = {"id": fb.get("id", str(uuid.uuid4())), "key": fb.get("key", "k"),
                       "created_at": "2026-01-01T00:00:00Z",
                       "modified_at": "2026-01-01T00:00:00Z", "run_id": fb.get("run_id")}
        else:
            payload = {}
        resp = requests.Response()
        resp.status_code = 200
        resp._content = json.dumps(payload).encode()
        resp.headers["Content-Type"] = "application/json"
        resp.url = request.url or ""
        resp.request = request
        return resp

    def close(self) -> None:
        pass


def test_upload_creates_dataset_experiment_runs_and_scores() -> None:
    from langsmith import Client

    session = requests.Session()
    recorder = Recorder()
    client = Client(api_key="lsv2-test", api_url="https://api.smith.langchain.com",
                    session=session, auto_batch_tracing=False)
    session.mount("https://api.smith.langchain.com/", recorder)  # longest prefix wins
    got = upload.upload(report(support_rate=1.0, length_error=0.05, voice_distinctness=None),
                        client)
    assert got is not None and got["scores"] == 2 and got["project_id"] == recorder.project
    posts = [(path, body) for method, path, body in recorder.calls if method == "POST"]
    paths = [p for p, _ in posts]
    assert any(p.endswith("/datasets") for p in paths)
    assert any(p.endswith("/sessions") for p in paths)
    assert any("/examples" in p for p in paths)
    assert any(p.endswith("/runs") for p in paths)
    scores = {b["key"]: b["score"] for p, b in posts if p.endswith("/feedback")}
    assert scores == {"support_rate": 1.0, "length_error": 0.05}


def test_report_only_cases_skip_the_bars_but_not_the_baseline() -> None:
    rules = {"transcript": {"wer": {"max": 0.3, "margin": 0.05}}}
    now = {"cases": [{"suite": "transcript", "case": "stereo", "metrics": {"wer": 0.64},
                      "error": None, "details": {"report_only": True}}]}
    assert run.gate(now, rules, None) == []
    was = {"cases": [{"suite": "transcript", "case": "stereo", "metrics": {"wer": 0.5}}]}
    assert run.gate(now, rules, was)


def test_an_invented_clause_caps_the_support() -> None:
    passage = ("VESPA is written in python and Perl and is designed to run within a UNIX "
               "environment.")
    true = judge_support("VESPA is written in python and Perl and runs within UNIX.", [passage])
    padded = judge_support("VESPA is written in python and Perl and runs within UNIX, and it "
                           "won the Turing Award last year.", [passage])
    assert true > 0.8 and padded <= 0.4
