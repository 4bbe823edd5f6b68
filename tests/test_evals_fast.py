"""The fast eval suite as part of `make test`: no regression against thresholds and baseline.

It makes one short podcast, checks the import expectations of the five papers, the web pages
and the media clips, and calibrates the support judge (a few minutes on two busy cores).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.run import evaluate


@pytest.mark.slow
def test_fast_suite_has_no_regression(tmp_path: Path) -> None:
    report, problems, path = evaluate("fast", out_dir=tmp_path)
    assert path.is_file() and path.with_suffix(".md").is_file()
    assert {c["suite"] for c in report["cases"]} == {"judge", "pdf", "webpage", "transcript",
                                                      "podcast", "content"}
    assert report["langsmith"] is None  # no key in tests: nothing was sent
    assert not problems, "\n".join(problems)
