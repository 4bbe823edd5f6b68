"""The assembler: the final audio, the script files, and the artifact with its provenance."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from agents.artifact import ArtifactRecord, Maker, Piece, artifact_id_for, writer_maker
from agents.script import Host, Line, Passage
from storage.objects import objects
from storage.settings import Settings
from tools.audio import AudioMeta, LineAudio, assemble
from tools.lang import Lang, pack

PAUSE_SAME = 0.3
PAUSE_CHANGE = 0.45
PAUSE_SECTION = 0.9


PAUSE_MIN, PAUSE_MAX = 0.2, 1.6


def pauses(lines: list[Line], stretch: float = 0.0) -> list[float]:
    """Natural silences: short within a speaker, longer at a hand-off, longest between segments.

    `stretch` (seconds, may be negative) is added to every pause within natural bounds: it closes
    the last few seconds between the spoken length and the requested one.
    """
    base = _pauses(lines)
    if not stretch:
        return base
    return [min(PAUSE_MAX, max(PAUSE_MIN, p + stretch)) for p in base]


def _pauses(lines: list[Line]) -> list[float]:
    out = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is None:
            out.append(0.6)
        elif nxt.section != line.section:
            out.append(PAUSE_SECTION)
        elif nxt.speaker != line.speaker:
            out.append(PAUSE_CHANGE)
        else:
            out.append(PAUSE_SAME)
    return out


def chapters(lines: list[Line]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for i, line in enumerate(lines):
        if not out or out[-1][0] != line.section:
            out.append((line.section or "Episode", i))
    return out


def credits(passages: list[Passage], lang: Lang | None = None) -> list[str]:
    """One APA-like line per source, in the order the episode presents them."""
    seen: dict[str, str] = {}
    for p in passages:
        if p.source_id in seen:
            continue
        authors = ", ".join(p.source_authors) if p.source_authors else \
            (lang or pack()).text("unknown_author")
        year = f" ({p.source_year})" if p.source_year else ""
        seen[p.source_id] = f"{authors}{year}. {p.source_title}."
    return list(seen.values())


def script_markdown(title: str, hosts: list[Host], lines: list[Line], times: list[tuple[float,
                    float]], passages: dict[str, Passage]) -> str:
    out = [f"# {title}", "", "Hosts: " + ", ".join(f"{h.name} ({h.role})" for h in hosts), ""]
    section = None
    for line, (start, _end) in zip(lines, times, strict=True):
        if line.section != section:
            section = line.section
            out += [f"## {section}", ""]
        refs = []
        for cid in line.citations:
            p = passages.get(cid)
            if p:
                refs.append(f"{p.source_title[:60]}" + (f", p. {p.page}" if p.page else ""))
        stamp = f"{int(start // 60):02d}:{start % 60:04.1f}"
        out.append(f"**[{stamp}] {line.speaker}:** {line.text}  ")
        out.append(f"<sub>sources: {'; '.join(refs)} · support {line.support}</sub>")
        out.append("")
    out += ["## Sources", ""] + [f"- {c}" for c in credits(list(passages.values()))]
    return "\n".join(out) + "\n"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def probe_duration(path: Path) -> float:
    """Duration of an audio file as ffmpeg decodes it."""
    import imageio_ffmpeg

    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path),
                           "-f", "null", "-"], capture_output=True, text=True, check=False)
    last = [ln for ln in proc.stderr.splitlines() if "time=" in ln]
    stamp = last[-1].split("time=")[1].split()[0] if last else "0:0:0"
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


async def assemble_podcast(settings: Settings, *, job_id: str, owner: str, title: str,
                           hosts: list[Host], lines: list[Line], audio: list[dict[str, Any]],
                           passages: list[Passage], recipe: dict[str, Any], wav: bool,
                           music: bool, version_of: str | None,
                           writer: dict[str, Any], pause_stretch: float = 0.0,
                           ) -> tuple[dict[str, Any], ArtifactRecord]:
    """Mix and store the episode and its script files; the result and what provenance records."""
    by_chunk = {p.chunk_id: p for p in passages}
    aid = artifact_id_for(job_id)
    store = objects(settings)
    meta = AudioMeta(title=title, artist=", ".join(h.name for h in hosts),
                     album="Librarian", comment="Sources: " + " | ".join(credits(passages)),
                     chapters=chapters(lines))
    with tempfile.TemporaryDirectory(prefix="librarian-podcast-") as tmp:
        mp3 = Path(tmp) / "podcast.mp3"
        wav_path = Path(tmp) / "podcast.wav" if wav else None
        clips = [LineAudio(Path(a["path"]), line.speaker, p)
                 for a, line, p in zip(audio, lines, pauses(lines, pause_stretch), strict=True)]
        res = await asyncio.to_thread(assemble, clips, mp3, meta=meta, wav_out=wav_path,
                                      music=music)
        script = {"artifact_id": aid, "title": title, "duration_s": round(res.duration_s, 3),
                  "hosts": [h.model_dump() for h in hosts],
                  "chapters": [{"title": t, "start_s": round(a, 3), "end_s": round(b, 3)}
                               for t, a, b in res.chapters],
                  "lines": [{**line.model_dump(exclude={"meta"}), "start_s": round(t[0], 3),
                             "end_s": round(t[1], 3),
                             "sources": [{"chunk_id": c, "source_id": by_chunk[c].source_id,
                                          "page": by_chunk[c].page}
                                         for c in line.citations if c in by_chunk]}
                            for line, t in zip(lines, res.line_times, strict=True)],
                  "credits": credits(passages), "loudness_lufs": round(res.lufs, 2)}
        md = script_markdown(title, hosts, lines, res.line_times, by_chunk)
        prefix = f"artifacts/{aid}/"
        files = {"audio": prefix + "podcast.mp3", "script_json": prefix + "script.json",
                 "script_md": prefix + "script.md"}
        await store.put_file(files["audio"], mp3, "audio/mpeg")
        await store.put(files["script_json"], json.dumps(script, indent=1).encode(),
                        "application/json")
        await store.put(files["script_md"], md.encode(), "text/markdown")
        if wav_path is not None:
            files["wav"] = prefix + "podcast.wav"
            await store.put_file(files["wav"], wav_path, "audio/wav")
        mp3_sha = sha256_file(mp3)
    rec = ArtifactRecord(
        id=aid, kind="podcast", owner=owner, title=title, job_id=job_id, files=files,
        recipe=recipe, duration_s=res.duration_s, version_of=version_of,
        meta={"hosts": [h.model_dump() for h in hosts], "lufs": res.lufs, "sha256": mp3_sha,
              "chapters": script["chapters"]},
        pieces=[Piece(seq=line.seq, kind=line.kind, text=line.text, citations=line.citations,
                      quote=line.quote, speaker=line.speaker, section=line.section,
                      start_s=start, end_s=end, support=line.support, meta=line.meta)
                for line, (start, end) in zip(lines, res.line_times, strict=True)],
        passages=passages,
        models=[writer_maker(writer.get("writer"), writer.get("model"),
                             writer.get("prompt_hashes"))],
        voices=[Maker(id=h.voice_id, props={"host": h.name, "role": h.role}) for h in hosts])
    return {"artifact_id": aid, "files": files, "duration_s": round(res.duration_s, 2),
            "lines": len(lines), "lufs": round(res.lufs, 2)}, rec
