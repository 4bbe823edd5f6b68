"""The browser suite's fixtures: a real server on a loopback port with a temp embedded home
(SQLite, embedded vectors, local objects), two owners' keys, and Debian's Chromium driven by
Playwright's bundled driver (no browser download: `scripts/browser.sh` installs chromium)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, free_port

CHROMIUM = os.environ.get("LIBRARIAN_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--mute-audio"]
SHOTS = REPO / "out" / "screenshots"


@dataclass
class Server:
    url: str
    home: Path
    keys: dict[str, str]
    log: Path


def _keys(env: dict[str, str]) -> dict[str, str]:
    """A key per owner, made with the CLI as a user makes them (`librarian keys create`)."""
    out = {}
    for who in ("ann", "ben"):
        made = subprocess.run([sys.executable, "-m", "server.cli", "keys", "create", who,
                               "--json"], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        out[who] = json.loads(made.stdout)["key"]
    return out


def _wait_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not start in 90 s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`librarian serve`'s app in its own process, as a user runs it (keys required)."""
    root = tmp_path_factory.mktemp("browser")
    home = root / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    env.update(LIBRARIAN_HOME=str(home), LIBRARIAN_AUTH="keys", LIBRARIAN_VOICE_ENGINE="piper",
               PYTHONPATH=str(REPO))
    keys = _keys(env)
    port = free_port()
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from tests import netguard; netguard.install(); "
             "import uvicorn; uvicorn.run('server.app:create_app', factory=True, "
             f"host='127.0.0.1', port={port}, log_level='warning')"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(proc, url, log)
        yield Server(url, home, keys, log)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, with a fresh profile per context."""
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: run `bash scripts/browser.sh`"
                    " (apt-get install chromium) or set LIBRARIAN_CHROMIUM")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()
