"""The video assembler: scenes + narration -> MP4, captions, thumbnail, and the provenance.

Scene clips are cached under `cache_dir/video` by content hash (see `tools.video`), so a job
killed while rendering and resumed encodes only the scenes it had not finished. A scene that
asks for a generated clip goes to the cloud backend chosen by the routing rule; without a key,
or when the backend fails, the scene is drawn locally and the reason is kept in the notes.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.artifact import ArtifactRecord, Maker, Piece, artifact_id_for, writer_maker
from agents.assembler import credits, sha256_file
from agents.director import Scene, timeline
from agents.director import disclosure as director_disclosure
from agents.script import Host, Line, Passage
from storage.objects import objects
from storage.settings import Settings
from tools import video, video_backends
from tools.audio import read_wav
from tools.lang import pack


async def fetch_figures(settings: Settings, scenes: list[Scene]) -> None:
    """Copy every figure a scene shows into the local cache and point the visual at it."""
    store = objects(settings)
    folder = settings.cache_dir / "video" / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    for sc in scenes:
        key = sc.visual.get("figure_key")
        if not key:
            continue
        dest = folder / key.replace("/", "_")
        if not dest.is_file():
            await store.get_file(key, dest)
        sc.visual["image"] = str(dest)


async def generate_clips(settings: Settings, scenes: list[Scene], frames: list[int],
                         notes: list[str]) -> None:
    """Ask a cloud backend for the clips scenes request; keep the local card when it cannot."""
    for sc, n in zip(scenes, frames, strict=True):
        if not sc.generate:
            continue
        req = video_backends.ClipRequest(prompt=sc.generate["prompt"], seconds=n / video.FPS,
                                         aspect=sc.generate.get("aspect", "16:9"))
        got = await video_backends.generate(settings, req, prefer=sc.generate.get("backend"),
                                            cache=settings.cache_dir / "video" / "clips")
        if got.path is not None:
            sc.visual = {**sc.visual, "clip": str(got.path), "backend": got.backend}
        notes.append(got.note)


async def assemble_video(settings: Settings, *, job_id: str, owner: str, title: str,
                         host: Host, lines: list[Line], scenes: list[Scene],
                         audio: list[dict[str, Any]], passages: list[Passage],
                         style: video.Style, music: bool, target_s: float,
                         recipe: dict[str, Any],
                         version_of: str | None, writer: dict[str, Any],
                         on_progress: Callable[[int, int], None] | None = None,
                         language: str | None = None,
                         ) -> tuple[dict[str, Any], ArtifactRecord]:
    """Render, mux and store the video and its files; the result and what provenance records."""
    disclosure = director_disclosure(language)
    speech = []
    for item in audio:
        samples, rate = read_wav(Path(item["path"]))
        speech.append(len(samples) / rate)
    times = timeline(speech, lines, target_s)
    portrait = style.portrait
    notes: list[str] = []
    await fetch_figures(settings, scenes)
    await generate_clips(settings, scenes, [t["frames"] for t in times], notes)
    specs: list[video.SceneSpec] = []
    cues_all: list[tuple[float, float, str]] = []
    for sc, t in zip(scenes, times, strict=True):
        cues = video.cues_for(sc.text, t["speech_start_s"], t["speech_end_s"], portrait)
        cues_all += cues
        rel = [(round(a - t["start_s"], 3), round(b - t["start_s"], 3), c) for a, b, c in cues]
        specs.append(video.SceneSpec(sc.seq, {k: v for k, v in sc.visual.items()
                                              if k != "figure_key"}, t["frames"], rel,
                                     "pixelize" if sc.kind == "terminal" else "fade"))
    total = sum(t["frames"] for t in times) / video.FPS
    aid = artifact_id_for(job_id)
    store = objects(settings)
    comment = f"{disclosure} Sources: " + " | ".join(credits(passages, pack(language)))
    cache = settings.cache_dir / "video" / "scenes"
    with tempfile.TemporaryDirectory(prefix="librarian-video-") as tmp:
        t_dir = Path(tmp)
        clips = await asyncio.to_thread(video.scene_clips, specs, style, cache, on_progress)
        wav = t_dir / "narration.wav"
        await asyncio.to_thread(video.soundtrack,
                                [(Path(a["path"]), t["speech_start_s"])
                                 for a, t in zip(audio, times, strict=True)], total, music, wav)
        srt_path = t_dir / "captions.srt"
        srt_path.write_text(video.srt(cues_all), encoding="utf-8")
        mp4 = t_dir / "video.mp4"
        await asyncio.to_thread(video.mux, clips, wav, mp4, title=title, comment=comment,
                                subtitles=srt_path if style.captions == "srt" else None)
        thumb = t_dir / "thumbnail.png"
        pick = next((i for i, s in enumerate(scenes) if s.kind == "figure"), 0)
        await asyncio.to_thread(video.thumbnail, clips[pick].with_suffix(".last.png"), thumb)
        probe = await asyncio.to_thread(video.probe, mp4)
        prefix = f"artifacts/{aid}/"
        files = {"video": prefix + "video.mp4", "thumbnail": prefix + "thumbnail.png",
                 "script_json": prefix + "script.json"}
        await store.put_file(files["video"], mp4, "video/mp4")
        await store.put_file(files["thumbnail"], thumb, "image/png")
        if style.captions != "none":
            files["captions_srt"] = prefix + "captions.srt"
            files["captions_vtt"] = prefix + "captions.vtt"
            await store.put(files["captions_srt"], video.srt(cues_all).encode(),
                            "application/x-subrip")
            await store.put(files["captions_vtt"], video.vtt(cues_all).encode(), "text/vtt")
        scene_rows = [{**sc.model_dump(exclude={"generate"}), "start_s": round(t["start_s"], 3),
                       "end_s": round(t["start_s"] + t["frames"] / video.FPS, 3),
                       "speech_start_s": round(t["speech_start_s"], 3),
                       "speech_end_s": round(t["speech_end_s"], 3)}
                      for sc, t in zip(scenes, times, strict=True)]
        script = {"artifact_id": aid, "title": title, "duration_s": round(probe.duration_s, 3),
                  "width": probe.width, "height": probe.height, "narrator": host.model_dump(),
                  "scenes": scene_rows, "captions": [list(c) for c in cues_all],
                  "credits": credits(passages, pack(language)), "disclosure": disclosure,
                  "language": language}
        await store.put(files["script_json"], json.dumps(script, indent=1).encode(),
                        "application/json")
        sha = sha256_file(mp4)
    rec = ArtifactRecord(
        id=aid, kind="video", owner=owner, title=title, job_id=job_id, files=files,
        recipe=recipe, duration_s=probe.duration_s, version_of=version_of,
        meta={"narrator": host.model_dump(), "sha256": sha, "width": probe.width,
              "height": probe.height, "notes": notes, "disclosure": disclosure,
              "language": language},
        pieces=[scene_piece(sc, row, host) for sc, row in zip(scenes, scene_rows, strict=True)],
        passages=passages,
        models=[writer_maker(writer.get("writer"), writer.get("model"),
                             writer.get("prompt_hashes"))]
        + [Maker(id=b, props={"kind": "video clips"})
           for b in sorted({str(sc.visual["backend"]) for sc in scenes
                            if sc.visual.get("backend")})],
        voices=[Maker(id=host.voice_id, props={"host": host.name, "role": host.role})])
    return {"artifact_id": aid, "files": files, "duration_s": round(probe.duration_s, 2),
            "width": probe.width, "height": probe.height, "scenes": len(scenes),
            "video_codec": probe.video_codec, "audio_codec": probe.audio_codec,
            "notes": notes}, rec


def scene_piece(sc: Scene, row: dict[str, Any], host: Host) -> Piece:
    """A scene as a traced piece: its timing, the figure it shows, the backend that drew it."""
    return Piece(seq=sc.seq, kind="scene", text=sc.text, citations=sc.citations, quote=sc.quote,
                 speaker=host.name, section=sc.section, start_s=row["start_s"],
                 end_s=row["end_s"], support=sc.support,
                 figure=sc.figure.model_dump() if sc.figure else None,
                 meta={"visual": sc.kind, "backend": sc.visual.get("backend", "local"),
                       "speech": [row["speech_start_s"], row["speech_end_s"]],
                       **({"translated_from": sc.translated_from} if sc.translated_from
                          else {})})
