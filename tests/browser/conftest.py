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
from typing import Any

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
    deadline = time.monotonic() + 240  # a busy 2-core machine starts it slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/api/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not start in 240 s: {log.read_text()[-3000:]}")


def start_server(root: Path) -> tuple[Server, subprocess.Popen[bytes]]:
    """`librarian serve`'s app in its own process on a free loopback port, as a user runs it
    (keys required), on a fresh embedded home under `root`; also used by bench/web.py."""
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
    except BaseException:
        stop_server(proc)
        raise
    return Server(url, home, keys, log), proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def chromium_path() -> str:
    """Debian's Chromium, or a failure naming how to install it."""
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: run `bash scripts/browser.sh`"
                    " (apt-get install chromium) or set LIBRARIAN_CHROMIUM")
    return CHROMIUM


# module scope: Playwright's sync API keeps an event loop running while it is open, and the
# tests after this folder call asyncio.run(); both end with the module
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv, proc = start_server(tmp_path_factory.mktemp("browser"))
    try:
        yield srv
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, with a fresh profile per context."""
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def first_load(browser: Any, server: Server, path: str, who: str | None = "ann",
               ready: str | None = None) -> dict[str, Any]:
    """A first visit of `path` in a fresh profile (nothing cached), signed in as `who`: bytes
    over the wire (Chromium's encodedDataLength, headers included), requests, and the time to
    the load event and to the page being ready (`ready`: a selector that shows it drew)."""
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    if who:
        ctx.add_cookies([{"name": "librarian_key", "value": server.keys[who], "url": server.url,
                          "httpOnly": True, "sameSite": "Strict"}])
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.responseReceived",
           lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    t0 = time.perf_counter()
    page.goto(path, wait_until="load")
    loaded = time.perf_counter() - t0
    if ready:
        page.locator(ready).first.wait_for()
    drawn = time.perf_counter() - t0
    page.wait_for_load_state("networkidle")
    ctx.close()
    return {"page": path, "bytes": sum(sizes.values()), "requests": len(sizes),
            "load_ms": round(loaded * 1000), "ready_ms": round(drawn * 1000),
            "by_url": {urls.get(k, k).replace(server.url, ""): v for k, v in sizes.items()}}
