"""Web studio first-load figures: bytes over the wire, requests, time to the load event and to
the page drawn, for each page in a fresh browser profile (nothing cached), signed in.

A real server on loopback (empty embedded home, keys on) and Debian's Chromium through
Playwright, as tests/browser runs them (`bash scripts/browser.sh` installs chromium).

Run: .venv/bin/python bench/web.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser.conftest import (  # noqa: E402
    FLAGS,
    chromium_path,
    first_load,
    start_server,
    stop_server,
)

PAGES = [("/", "table.sources"), ("/studio", "#estimate"), ("/jobs", "table.jobs"),
         ("/docs", ".swagger-ui .info")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server, proc = start_server(Path(tempfile.mkdtemp(prefix="bench-web-")))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                        args=FLAGS)
            print(f"{'page':10} {'bytes':>8} {'requests':>8} {'load ms':>8} {'drawn ms':>9}"
                  f"  (median of {args.runs} cold loads)")
            for path, ready in PAGES:
                runs = [first_load(browser, server, path, ready=ready) for _ in range(args.runs)]
                print(f"{path:10} {runs[0]['bytes']:>8} {runs[0]['requests']:>8} "
                      f"{statistics.median(r['load_ms'] for r in runs):>8.0f} "
                      f"{statistics.median(r['ready_ms'] for r in runs):>9.0f}")
            browser.close()
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
