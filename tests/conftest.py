"""Test configuration: no network, no model hubs, a fresh LIBRARIAN_HOME per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import netguard

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["LANGSMITH_TRACING"] = "false"
for _key in ("LANGSMITH_API_KEY", "OPENAI_API_KEY", "LIBRARIAN_LLM_BASE_URL", "LIBRARIAN_LLM_MODEL",
             "LIBRARIAN_LLM_API_KEY", "LIBRARIAN_ELEVENLABS_API_KEY"):
    os.environ.pop(_key, None)
netguard.install()

REPO = Path(__file__).resolve().parent.parent
TESTDATA = (REPO.parent / "shared" / "testdata").resolve()
PAPERS = TESTDATA / "papers"


@pytest.fixture
def testdata() -> Path:
    return TESTDATA
