"""Real-time factor of offline transcription on the test clips (goal: <= 0.15x on 2 cores).

    python bench/transcribe.py [clip ...]

The model is loaded (and warmed up on the first clip) before timing; RTF = wall time / audio
duration. Also prints the word error rate where a `.transcript.txt` reference sits next to a clip.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from evals.metrics import wer  # noqa: E402
from storage.settings import load_settings  # noqa: E402
from tools.transcribe import transcribe  # noqa: E402

MEDIA = REPO.parent / "shared" / "testdata" / "media"
EXTS = {".flac", ".mp3", ".wav", ".m4a", ".ogg", ".mp4", ".mkv", ".webm"}


def _reference(clip: Path) -> str | None:
    ref = clip.with_name(clip.stem + ".transcript.txt")
    if not ref.is_file():
        return None
    text = re.sub(r"\[[\d.]+-[\d.]+\]", " ", ref.read_text())
    return re.sub(r"^(LEFT|RIGHT) channel:", " ", text, flags=re.M)


def main(argv: list[str]) -> int:
    clips = [Path(a) for a in argv] or sorted(p for p in MEDIA.iterdir() if p.suffix in EXTS)
    settings = load_settings(home=Path(tempfile.mkdtemp(prefix="librarian-bench-")))
    transcribe(clips[0], settings=settings)  # load and warm the model
    total_audio = total_wall = 0.0
    print(f"cpu cores: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}")
    for clip in clips:
        start = time.perf_counter()
        result = transcribe(clip, settings=settings)
        wall = time.perf_counter() - start
        total_audio += result.duration_s
        total_wall += wall
        ref = _reference(clip)
        score = f"  WER {wer(ref, result.text):.1%}" if ref else ""
        print(f"{clip.name:45s} {result.duration_s:6.1f} s audio  {wall:6.2f} s  "
              f"RTF {wall / result.duration_s:.3f}x{score}")
    print(f"{'total':45s} {total_audio:6.1f} s audio  {total_wall:6.2f} s  "
          f"RTF {total_wall / total_audio:.3f}x (goal <= 0.15x on 2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
