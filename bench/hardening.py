"""Hardening figures (issue 13) on the embedded stack, server in a subprocess, default limits.

1. Zip bomb: a ~700 KB .docx holding 200 MB of paragraphs is uploaded; prints the answer, how
   long it took, and the server's peak RSS (VmHWM) before and after.
2. /api/health under load: a generated 50 MB page, then a generated 500-page PDF, are imported
   while /api/health is polled for up to SECONDS each (the import is then cancelled if still
   running); prints p50/p95/max, the number of calls and the stages the import went through.

Cancel latency during narration, resume after kill -9 and recovery after a Redis restart are
printed by tests/robustness/test_faults.py (`pytest -s`, lines starting FIGURE).

Run: .venv/bin/python bench/hardening.py [--seconds 60] [--page-mb 50] [--pdf-pages 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import jobkit, pdfmake  # noqa: E402
from tests.robustness import hostile  # noqa: E402

TERMINAL = {"completed", "failed", "cancelled"}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def server(root: Path) -> jobkit.Stack:
    """Embedded home, no keys, in-process jobs (started by `main`, slowly on a busy machine)."""
    stack = jobkit.Stack("inproc", root, {})
    stack.env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    stack.env.update(PYTHONPATH=str(jobkit.REPO), LIBRARIAN_HOME=str(root / "home"),
                     LIBRARIAN_AUTH="none", HF_HUB_OFFLINE="1")
    return stack


def zip_bomb(stack: jobkit.Stack, root: Path) -> None:
    data = hostile.docx_bomb(200 * 2**20)
    assert stack.server is not None
    before = peak_rss_mb(stack.server.pid)
    start = time.perf_counter()
    resp = httpx.post(stack.url + "/api/content/import",
                      files={"file": ("bomb.docx", data)}, timeout=120)
    took = time.perf_counter() - start
    after = peak_rss_mb(stack.server.pid)
    print(f"zip bomb ({len(data) / 1024:.0f} KB .docx, 200 MB inside): HTTP {resp.status_code} "
          f"in {took:.2f} s; server peak RSS {before:.0f} -> {after:.0f} MB "
          f"(+{after - before:.0f} MB): {resp.text[:160]}")


def health_while(stack: jobkit.Stack, path: Path, seconds: float) -> None:
    times: list[float] = []
    stages: list[str] = []
    bad = 0
    with httpx.Client(base_url=stack.url, timeout=60) as c:
        with path.open("rb") as f:
            resp = c.post("/api/content/import", files={"file": (path.name, f)})
        resp.raise_for_status()
        job_id = resp.json()["job_id"]
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            job = c.get(f"/api/jobs/{job_id}").json()
            if job["stage"] and (not stages or stages[-1] != job["stage"]):
                stages.append(job["stage"])
            if job["status"] in TERMINAL:
                break
            t0 = time.perf_counter()
            h = c.get("/api/health")
            times.append(time.perf_counter() - t0)
            if h.status_code != 200:
                bad += 1
                print(f"  health answered {h.status_code} after {times[-1]:.1f} s: "
                      f"{h.text[:160]}", flush=True)
            time.sleep(0.05)
        took = time.monotonic() - start
        q = statistics.quantiles(times, n=20) if len(times) >= 2 else [max(times)] * 19
        print(f"health during the import of {path.name} ({path.stat().st_size / 2**20:.1f} MB) "
              f"over {took:.0f} s: p50={statistics.median(times) * 1000:.0f} ms "
              f"p95={q[18] * 1000:.0f} ms max={max(times) * 1000:.0f} ms, {len(times)} calls, "
              f"{bad} not 200; stages {' > '.join(stages)}; job {job['status']}"
              + (f" ({job['error']})" if job.get("error") else ""), flush=True)
        if job["status"] not in TERMINAL:
            asked = time.monotonic()
            c.delete(f"/api/jobs/{job_id}", timeout=120)
            job = jobkit.wait_job(c, job_id, 300)
            print(f"  cancelled in {time.monotonic() - asked:.1f} s: {job['status']}", flush=True)


def big_page(root: Path, mb: int) -> Path:
    path = root / "big.html"
    para = "<p>" + " ".join(f"word{i} in a long paragraph about testing" for i in range(40))
    n = mb * 2**20 // (len(para) + 10)
    path.write_text("<html><head><title>Big</title></head><body><h1>Big</h1>"
                    + "".join(f"{para} {k}</p>" for k in range(n)) + "</body></html>")
    return path


def big_pdf(root: Path, pages: int) -> Path:
    path = root / "big.pdf"
    body = [(56.0, 80.0 + 14 * i, 10.0, f"Line {i} of a long generated report about load.",
             False) for i in range(40)]
    path.write_bytes(pdfmake.text_pdf([[(56.0, 40.0, 16.0, f"Section {p}", True), *body]
                                       for p in range(pages)]))
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--page-mb", type=int, default=50)
    ap.add_argument("--pdf-pages", type=int, default=500)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-hardening-"))
    stack = server(root)
    try:
        stack.start_server(timeout=300)
        zip_bomb(stack, root)
        health_while(stack, big_page(root, args.page_mb), args.seconds)
        health_while(stack, big_pdf(root, args.pdf_pages), args.seconds)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
