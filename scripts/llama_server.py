"""llama.cpp's OpenAI-compatible HTTP server on a local GGUF model, from the prebuilt wheel.

Run: python scripts/llama_server.py --model PATH [--port 8080] [--threads 2] [--ctx 4096]

xllamacpp (MIT) ships llama.cpp's own C++ server (`/health`, `/v1/models`,
`/v1/chat/completions` with tools and `response_format`) as a prebuilt manylinux wheel, so
nothing is compiled. The server listens on loopback only, never downloads anything (offline
mode, a local model path) and runs until SIGTERM or SIGINT. OpenMP threads wait passively so
an idle server leaves the cores to the rest of the machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, type=Path, help="a local .gguf file")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=4096, help="context window in tokens")
    ap.add_argument("--alias", default=None, help="the model name the server reports")
    return ap.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    if not args.model.is_file():
        raise SystemExit(f"llama_server: no model file at {args.model} "
                         "(run: python scripts/models.py qwen)")
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # read when OpenMP starts: set first
    try:
        import xllamacpp as xlc
    except ImportError:
        raise SystemExit("llama_server: xllamacpp is not installed "
                         "(run: python scripts/models.py llama-server)") from None
    params = xlc.CommonParams()
    params.model.path = str(args.model)
    params.model_alias = {args.alias or args.model.stem}
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.offline = True
    params.use_jinja = True  # the model's own chat template, with its tool-call format
    params.warmup = False
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = xlc.Server(params)
    print(f"llama_server: listening on {server.listening_address}", flush=True)
    stop.wait()
    del server


if __name__ == "__main__":
    main(sys.argv[1:])
