"""Local video rendering: Pillow draws the cards, the ffmpeg of imageio-ffmpeg encodes them.

A scene is a few still images (a card with each caption burned in, or the steps of a typing
animation) shown for whole frames, preceded by an ffmpeg `xfade` from the previous scene's last
frame. Every scene is encoded to its own H.264 clip, cached by a hash of what it shows and how
it is encoded, so a render that is killed and resumed encodes only the scenes not yet done. The
clips are then joined without re-encoding and muxed with the narration (AAC), `+faststart`.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from storage import cancel
from storage.errors import BadInput, ConfigError
from tools.audio import JINGLE, MUSIC_BELOW_SPEECH_DB, normalise, read_wav, resample, write_wav

FPS = 25
SIZES = {"16:9": (1920, 1080), "9:16": (1080, 1920)}
XFADE_S = 0.4
AUDIO_RATE = 44100
DUCK_DB = 14.0
DISCLOSURE = ("AI-generated video: narration synthesised and visuals assembled automatically "
              "from the cited sources by Librarian.")
RENDER_VERSION = "video/1"  # bump to invalidate cached scene clips

BG_TOP = (16, 21, 34)
BG_BOTTOM = (30, 40, 68)
INK = (245, 245, 240)
MUTED = (170, 180, 200)
ACCENT = (242, 177, 52)
TERM_BG = (12, 14, 12)
TERM_INK = (110, 240, 130)

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/share/fonts/TTF"), Path("/usr/local/share/fonts")]
FONT_FILES = {"sans": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf",
              "mono": "DejaVuSansMono.ttf", "serif": "DejaVuSerif-Italic.ttf"}


@dataclass(frozen=True)
class Style:
    """How scenes are encoded and decorated; part of every scene's cache key."""

    width: int
    height: int
    captions: str = "burn"  # burn | srt | none
    watermark: str | None = None
    logo: str | None = None  # path to a PNG
    accent: tuple[int, int, int] = ACCENT  # rules, headings, bars (a brand's accent colour)
    crf: int = 21
    preset: str = "ultrafast"  # scenes are mostly still: speed matters more than size

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    @property
    def u(self) -> float:
        """Layout unit: 1.0 at 1080 px on the short side."""
        return min(self.width, self.height) / 1080


@dataclass
class SceneSpec:
    """What one scene shows: a visual (see `draw_card`), its caption cues and its length."""

    seq: int
    visual: dict[str, Any]
    frames: int
    cues: list[tuple[float, float, str]] = field(default_factory=list)  # scene-relative seconds
    transition: str = "fade"

    def key(self, style: Style, prev_key: str | None) -> str:
        blob = json.dumps({"v": RENDER_VERSION, "visual": self.visual, "frames": self.frames,
                           "cues": self.cues, "transition": self.transition,
                           "style": style.__dict__, "prev": prev_key, "fonts": font_ids(),
                           "files": _file_ids(self.visual)}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _file_ids(visual: dict[str, Any]) -> dict[str, str]:
    out = {}
    for k in ("image", "clip"):
        p = visual.get(k)
        if p and Path(p).is_file():
            out[k] = hashlib.sha256(Path(p).read_bytes()).hexdigest()[:16]
    return out


# ---------------------------------------------------------------------------------------- ffmpeg

def ffmpeg() -> str:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as exc:
        raise ConfigError(f"ffmpeg not available (imageio-ffmpeg): {exc}") from None


@lru_cache(maxsize=1)
def h264_encoder() -> str:
    out = subprocess.run([ffmpeg(), "-hide_banner", "-encoders"], capture_output=True,
                         text=True, check=False).stdout
    for name in ("libx264", "libopenh264"):
        if re.search(rf"\b{name}\b", out):
            return name
    raise ConfigError("the bundled ffmpeg has no H.264 encoder (libx264 or libopenh264)")


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise ConfigError(f"ffmpeg failed to {what}: "
                          + proc.stderr.decode("utf-8", "replace")[-600:])


def _video_args(style: Style) -> list[str]:
    enc = h264_encoder()
    args = ["-c:v", enc, "-pix_fmt", "yuv420p", "-r", str(FPS)]
    if enc == "libx264":
        args += ["-preset", style.preset, "-crf", str(style.crf), "-tune", "stillimage"]
    else:
        args += ["-b:v", "3M"]
    return args


# ----------------------------------------------------------------------------------------- fonts

@lru_cache(maxsize=1)
def font_paths() -> dict[str, str]:
    """TTF files for each role: DejaVu when installed (system or matplotlib), else Pillow's own."""
    dirs = list(FONT_DIRS)
    try:
        import importlib.util

        spec = importlib.util.find_spec("matplotlib")
        if spec and spec.origin:
            dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    except (ImportError, ValueError):
        pass
    out = {}
    for role, name in FONT_FILES.items():
        for d in dirs:
            if (d / name).is_file():
                out[role] = str(d / name)
                break
    return out


def font_ids() -> dict[str, str]:
    return {k: Path(v).name for k, v in font_paths().items()} or {"default": "pillow"}


@lru_cache(maxsize=64)
def font(role: str, size: int) -> Any:
    from PIL import ImageFont

    path = font_paths().get(role) or font_paths().get("sans")
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)  # Pillow's embedded TrueType font


def wrap(text: str, fnt: Any, width: float) -> list[str]:
    lines: list[str] = []
    cur = ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if cur and fnt.getlength(trial) > width:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    if cur:
        lines.append(cur)
    return lines


def fit_text(text: str, role: str, size: int, width: float, max_lines: int,
             min_size: int = 24) -> tuple[Any, list[str]]:
    """The largest font (from `size` down) at which `text` wraps into `max_lines`."""
    while True:
        fnt = font(role, size)
        lines = wrap(text, fnt, width)
        if len(lines) <= max_lines or size <= min_size:
            if len(lines) > max_lines:
                lines = lines[:max_lines]
                lines[-1] = lines[-1].rstrip(".,;: ") + "\u2026"
            return fnt, lines
        size = int(size * 0.9)


# ----------------------------------------------------------------------------------------- cards

@lru_cache(maxsize=4)
def _background(w: int, h: int) -> Any:
    from PIL import Image

    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    top = np.array(BG_TOP, dtype=np.float32)
    bottom = np.array(BG_BOTTOM, dtype=np.float32)
    grad = np.broadcast_to(top + (bottom - top) * t, (h, w, 3)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(grad), "RGB")


def _text_block(draw: Any, lines: list[str], fnt: Any, x: float, y: float, fill: Any,
                spacing: float = 1.3, center_w: float | None = None) -> float:
    step = fnt.size * spacing
    for line in lines:
        dx = (center_w - fnt.getlength(line)) / 2 if center_w else 0
        draw.text((x + dx, y), line, font=fnt, fill=fill)
        y += step
    return y


def _safe_area(style: Style) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the area above the caption band."""
    u = style.u
    margin = int(90 * u)
    bottom = style.height - int((500 if style.portrait else 190) * u)
    top = int((220 if style.portrait else 80) * u)
    return margin, top, style.width - margin, bottom


def draw_card(visual: dict[str, Any], style: Style, typed: int | None = None,
              cursor: bool = False) -> Any:
    """The scene's picture without captions. `typed`: characters shown of a terminal scene."""
    from PIL import ImageDraw

    w, h, u = style.width, style.height, style.u
    img = _background(w, h).copy()
    d = ImageDraw.Draw(img)
    left, top, right, bottom = _safe_area(style)
    width = right - left
    kind = visual.get("kind", "quote")
    if kind in {"title", "section"}:
        big = 96 if kind == "title" else 80
        fnt, lines = fit_text(visual.get("title", ""), "bold", int(big * u), width, 4)
        sub_f, sub = fit_text(visual.get("subtitle", ""), "sans", int(44 * u), width, 6)
        block = len(lines) * fnt.size * 1.25 + int(40 * u) + len(sub) * sub_f.size * 1.35
        y = top + max(0, (bottom - top - block) / 2)
        d.rectangle([left, y - 30 * u, left + 160 * u, y - 22 * u], fill=style.accent)
        y = _text_block(d, lines, fnt, left, y, INK, 1.25)
        _text_block(d, sub, sub_f, left, y + 40 * u, MUTED, 1.35)
        if visual.get("kicker"):
            d.text((left, top), visual["kicker"].upper(), font=font("bold", int(34 * u)),
                   fill=style.accent)
    elif kind == "quote":
        d.text((left - 10 * u, top - 40 * u), "\u201c", font=font("serif", int(220 * u)),
               fill=style.accent)
        ref_f, ref = fit_text(visual.get("reference", ""), "sans", int(32 * u), width, 3)
        ref_h = len(ref) * ref_f.size * 1.3
        area = bottom - top - int(160 * u) - ref_h
        fnt, lines = fit_text(visual.get("text", ""), "serif", int(60 * u), width,
                              max(3, int(area / (60 * u * 1.35))), int(30 * u))
        y = top + int(150 * u)
        y = _text_block(d, lines, fnt, left, y, INK, 1.35)
        _text_block(d, ref, ref_f, left, max(y + 30 * u, bottom - ref_h), MUTED)
    elif kind == "bullets":
        head_f, head = fit_text(visual.get("heading", ""), "bold", int(64 * u), width, 2)
        y = _text_block(d, head, head_f, left, top + 20 * u, style.accent, 1.2) + 30 * u
        ref_f, ref = fit_text(visual.get("reference", ""), "sans", int(32 * u), width, 3)
        for item in visual.get("bullets", []):
            fnt, lines = fit_text(item, "sans", int(46 * u), width - 60 * u, 5, int(28 * u))
            d.ellipse([left, y + fnt.size * 0.35, left + 20 * u, y + fnt.size * 0.35 + 20 * u],
                      fill=style.accent)
            y = _text_block(d, lines, fnt, left + 60 * u, y, INK, 1.3) + 24 * u
        _text_block(d, ref, ref_f, left, bottom - len(ref) * ref_f.size * 1.3, MUTED)
    elif kind == "figure":
        _draw_figure(img, d, visual, style)
    elif kind == "terminal":
        _draw_terminal(d, visual, style, typed, cursor)
    elif kind == "chart":
        _draw_chart(d, visual, style)
    elif kind == "end":
        fnt = font("bold", int(64 * u))
        y = _text_block(d, [visual.get("heading", "Sources")], fnt, left, top + 10 * u,
                        style.accent)
        for credit in visual.get("credits", []):
            cf, lines = fit_text(credit, "sans", int(38 * u), width, 4, int(24 * u))
            y = _text_block(d, lines, cf, left, y + 10 * u, INK) + 10 * u
        df, lines = fit_text(visual.get("disclosure", DISCLOSURE), "bold", int(40 * u), width, 4)
        box_h = len(lines) * df.size * 1.3 + 50 * u
        y0 = bottom - box_h
        d.rounded_rectangle([left - 25 * u, y0, right + 25 * u, bottom], radius=int(18 * u),
                            outline=style.accent, width=max(2, int(4 * u)))
        _text_block(d, lines, df, left, y0 + 25 * u, INK)
    _brand(img, d, style)
    return img


def _draw_figure(img: Any, d: Any, visual: dict[str, Any], style: Style) -> None:
    from PIL import Image

    u = style.u
    left, top, right, bottom = _safe_area(style)
    width = right - left
    cap_f, cap = fit_text(visual.get("caption", ""), "sans", int(36 * u), width, 3, int(24 * u))
    ref_f, ref = fit_text(visual.get("reference", ""), "sans", int(28 * u), width, 2, int(20 * u))
    text_h = len(cap) * cap_f.size * 1.3 + len(ref) * ref_f.size * 1.3 + 30 * u
    box = (left, top, right, int(bottom - text_h))
    pad = int(24 * u)
    fig = Image.open(visual["image"]).convert("RGB")
    bw, bh = box[2] - box[0] - 2 * pad, box[3] - box[1] - 2 * pad
    scale = min(bw / fig.width, bh / fig.height)
    fig = fig.resize((max(1, int(fig.width * scale)), max(1, int(fig.height * scale))),
                     Image.Resampling.LANCZOS)
    fx = box[0] + (box[2] - box[0] - fig.width) // 2
    fy = box[1] + (box[3] - box[1] - fig.height) // 2
    d.rounded_rectangle([fx - pad, fy - pad, fx + fig.width + pad, fy + fig.height + pad],
                        radius=int(14 * u), fill=(252, 252, 250))
    img.paste(fig, (fx, fy))
    y = _text_block(d, cap, cap_f, left, box[3] + 20 * u, INK)
    _text_block(d, ref, ref_f, left, y, MUTED)


def _draw_terminal(d: Any, visual: dict[str, Any], style: Style, typed: int | None,
                   cursor: bool) -> None:
    u = style.u
    left, top, right, bottom = _safe_area(style)
    d.rounded_rectangle([left, top, right, bottom], radius=int(16 * u), fill=TERM_BG,
                        outline=(60, 70, 60), width=max(1, int(2 * u)))
    for i, col in enumerate([(255, 95, 86), (255, 189, 46), (39, 201, 63)]):
        cx = left + (36 + 40 * i) * u
        d.ellipse([cx - 11 * u, top + 25 * u, cx + 11 * u, top + 47 * u], fill=col)
    title = visual.get("reference", "")
    d.text((left + 170 * u, top + 20 * u), title[:80], font=font("mono", int(24 * u)),
           fill=MUTED)
    text = visual.get("text", "")
    shown = text if typed is None else text[:typed]
    fnt = font("mono", int(38 * u))
    lines: list[str] = []
    for para in shown.split("\n"):
        lines += wrap(para, fnt, right - left - 80 * u) or [""]
    y = top + 90 * u
    max_lines = int((bottom - y - 30 * u) / (fnt.size * 1.35))
    lines = lines[-max_lines:]
    for line in lines:
        d.text((left + 40 * u, y), line, font=fnt, fill=TERM_INK)
        y += fnt.size * 1.35
    if cursor:
        last = lines[-1] if lines else ""
        x = left + 40 * u + fnt.getlength(last)
        y0 = y - fnt.size * 1.35
        d.rectangle([x + 4 * u, y0 + 4 * u, x + 4 * u + fnt.size * 0.55, y0 + fnt.size * 1.1],
                    fill=TERM_INK)


def _draw_chart(d: Any, visual: dict[str, Any], style: Style) -> None:
    u = style.u
    left, top, right, bottom = _safe_area(style)
    head_f, head = fit_text(visual.get("heading", ""), "bold", int(52 * u), right - left, 2)
    y = _text_block(d, head, head_f, left, top, style.accent, 1.2) + 30 * u
    ref_f, ref = fit_text(visual.get("reference", ""), "sans", int(28 * u), right - left, 2)
    base = bottom - len(ref) * ref_f.size * 1.3 - 80 * u
    labels = visual.get("labels", [])
    values = [float(v) for v in visual.get("values", [])]
    if not values:
        return
    n = len(values)
    slot = (right - left) / n
    top_v = max(values) or 1.0
    val_f = font("bold", int(40 * u))
    lab_f = font("sans", int(28 * u))
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        bh = (base - y - 60 * u) * (v / top_v)
        x0 = left + i * slot + slot * 0.18
        x1 = left + (i + 1) * slot - slot * 0.18
        d.rectangle([x0, base - bh, x1, base], fill=style.accent)
        txt = visual.get("texts", [])[i] if visual.get("texts") else f"{v:g}"
        d.text((x0, base - bh - 52 * u), txt, font=val_f, fill=INK)
        for j, line in enumerate(wrap(lab, lab_f, x1 - x0 + slot * 0.3)[:2]):
            d.text((x0, base + 12 * u + j * 34 * u), line, font=lab_f, fill=MUTED)
    _text_block(d, ref, ref_f, left, bottom - len(ref) * ref_f.size * 1.3, MUTED)


def _brand(img: Any, d: Any, style: Style) -> None:
    u = style.u
    if style.watermark:
        fnt = font("bold", int(28 * u))
        tw = fnt.getlength(style.watermark)
        d.text((style.width - tw - 40 * u, 30 * u), style.watermark, font=fnt, fill=(200, 200, 210))
    if style.logo and Path(style.logo).is_file():
        from PIL import Image

        logo = Image.open(style.logo).convert("RGBA")
        side = int(90 * u)
        logo.thumbnail((side, side))
        img.paste(logo, (int(40 * u), int(30 * u)), logo)


def draw_caption(img: Any, text: str, style: Style) -> Any:
    """`img` with `text` burned in a band at the bottom (higher up on portrait video)."""
    from PIL import ImageDraw

    if not text:
        return img
    out = img.copy()
    d = ImageDraw.Draw(out, "RGBA")
    u = style.u
    width = style.width - int(200 * u)
    fnt, lines = fit_text(text, "bold", int((54 if style.portrait else 46) * u), width, 2,
                          int(30 * u))
    line_h = fnt.size * 1.3
    band_h = len(lines) * line_h + 36 * u
    y0 = style.height - (int(260 * u) if style.portrait else int(40 * u)) - band_h
    widest = max(fnt.getlength(line) for line in lines)
    x0 = (style.width - widest) / 2 - 30 * u
    d.rounded_rectangle([x0, y0, style.width - x0, y0 + band_h], radius=int(14 * u),
                        fill=(0, 0, 0, 185))
    _text_block(d, lines, fnt, 0, y0 + 18 * u, (255, 255, 255), 1.3, center_w=style.width)
    return out


# ---------------------------------------------------------------------------------------- scenes

def caption_chunks(text: str, portrait: bool) -> list[str]:
    """Narration split into caption-sized pieces, at punctuation where possible."""
    limit = 7 if portrait else 13
    words = text.split()
    out: list[str] = []
    cur: list[str] = []
    for word in words:
        cur.append(word)
        soft = word[-1] in ",;:" and len(cur) >= limit * 0.6
        if len(cur) >= limit or word[-1] in ".!?" or soft:
            out.append(" ".join(cur))
            cur = []
    if cur:
        if out and len(cur) <= 2:
            out[-1] += " " + " ".join(cur)
        else:
            out.append(" ".join(cur))
    return out


def cues_for(text: str, start: float, end: float, portrait: bool) -> list[tuple[float, float,
                                                                              str]]:
    """Caption cues over [start, end], each timed in proportion to its characters."""
    chunks = caption_chunks(text, portrait)
    total = sum(len(c) + 2 for c in chunks) or 1
    out = []
    t = start
    for c in chunks:
        dt = (end - start) * (len(c) + 2) / total
        out.append((round(t, 3), round(t + dt, 3), c))
        t += dt
    return out


def scene_images(scene: SceneSpec, style: Style) -> list[tuple[Any, int]]:
    """(picture, frames) in order; their frames add up to the scene's."""
    vis = scene.visual
    burn = style.captions == "burn"
    if vis.get("kind") == "terminal":
        return _typing(scene, style)
    card = draw_card(vis, style)
    if not burn or not scene.cues:
        return [(card, scene.frames)]
    out: list[tuple[Any, int]] = []
    marks = [0] + [min(scene.frames, round(a * FPS)) for a, _, _ in scene.cues[1:]]
    marks.append(scene.frames)
    first = round(scene.cues[0][0] * FPS)
    if first > 0:
        out.append((card, first))
        marks[0] = first
    for (_, _, text), a, b in zip(scene.cues, marks[:-1], marks[1:], strict=True):
        if b > a:
            out.append((draw_caption(card, text, style), b - a))
    used = sum(n for _, n in out)
    if used < scene.frames:
        last = out[-1][0] if out else card
        out.append((last, scene.frames - used))
    return out


def _typing(scene: SceneSpec, style: Style) -> list[tuple[Any, int]]:
    """A terminal that types its text over the first 70% of the scene, then blinks its cursor."""
    text = scene.visual.get("text", "")
    step = 3  # frames per animation step (about 8 steps a second)
    steps = max(1, scene.frames // step)
    typing = max(1, int(steps * 0.7))
    out: list[tuple[Any, int]] = []
    for i in range(steps):
        n = len(text) if i >= typing else int(len(text) * (i + 1) / typing)
        t = i * step / FPS
        cue = next((c for a, b, c in scene.cues if a <= t < b), "")
        img = draw_card(scene.visual, style, typed=n, cursor=(i // 2) % 2 == 0)
        if style.captions == "burn":
            img = draw_caption(img, cue, style)
        frames = step if i < steps - 1 else scene.frames - step * (steps - 1)
        out.append((img, frames))
    return out


def render_scene(scene: SceneSpec, style: Style, prev_last: Path | None, out: Path) -> Path:
    """Encode one scene to `out` (H.264, no audio) and save its last frame beside it."""
    with tempfile.TemporaryDirectory(prefix="librarian-scene-") as tmp:
        t = Path(tmp)
        images = scene_images(scene, style)
        lines = ["ffconcat version 1.0"]
        for i, (img, n) in enumerate(images):
            name = f"f{i:04d}.png"
            img.save(t / name, compress_level=1)
            lines += [f"file '{name}'", f"duration {n / FPS:.6f}"]
        lines.append(f"file 'f{len(images) - 1:04d}.png'")
        (t / "list.ffconcat").write_text("\n".join(lines) + "\n")
        out.parent.mkdir(parents=True, exist_ok=True)
        images[-1][0].save(out.with_suffix(".last.png"), compress_level=1)
        cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y"]
        xfade = prev_last is not None and prev_last.is_file() and scene.frames > 2 * XFADE_S * FPS
        if xfade:
            cmd += ["-loop", "1", "-framerate", str(FPS), "-t", f"{XFADE_S}", "-i", str(prev_last)]
        cmd += ["-f", "concat", "-safe", "0", "-i", str(t / "list.ffconcat")]
        norm = f"scale={style.width}:{style.height},format=yuv420p,fps={FPS},settb=AVTB"
        if xfade:
            graph = (f"[0:v]{norm}[a];[1:v]{norm},setpts=PTS-STARTPTS[b];"
                     f"[a][b]xfade=transition={scene.transition}:duration={XFADE_S}:offset=0[v]")
        else:
            graph = f"[0:v]{norm}[v]"
        tmp_out = t / "scene.mp4"
        cmd += ["-filter_complex", graph, "-map", "[v]", "-frames:v", str(scene.frames),
                *_video_args(style), "-an", str(tmp_out)]
        _run(cmd, f"render scene {scene.seq}")
        shutil.move(str(tmp_out), out)
    return out


def render_clip_scene(scene: SceneSpec, style: Style, out: Path) -> Path:
    """A scene over a generated clip (cloud backend): cropped to size, looped, captions on top."""
    from PIL import Image

    clip = scene.visual["clip"]
    with tempfile.TemporaryDirectory(prefix="librarian-clip-") as tmp:
        t = Path(tmp)
        cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1",
               "-i", clip]
        graph = (f"[0:v]fps={FPS},scale={style.width}:{style.height}:force_original_aspect_ratio="
                 f"increase,crop={style.width}:{style.height},format=yuv420p[base]")
        last = "base"
        blank = Image.new("RGBA", (style.width, style.height), (0, 0, 0, 0))
        title = scene.visual.get("title")
        layers = []
        if title:
            layers.append((draw_caption(blank, title, style), 0.0, scene.frames / FPS))
        if style.captions == "burn":
            layers += [(draw_caption(blank, c, style), a, b) for a, b, c in scene.cues]
        for i, (img, a, b) in enumerate(layers):
            img.save(t / f"l{i}.png")
            cmd += ["-i", str(t / f"l{i}.png")]
            graph += (f";[{last}][{i + 1}:v]overlay=0:0:enable='between(t,{a:.3f},{b:.3f})'"
                      f"[o{i}]")
            last = f"o{i}"
        tmp_out = t / "scene.mp4"
        cmd += ["-filter_complex", graph, "-map", f"[{last}]", "-frames:v", str(scene.frames),
                *_video_args(style), "-an", str(tmp_out)]
        _run(cmd, f"render clip scene {scene.seq}")
        frame = out.with_suffix(".last.png")
        out.parent.mkdir(parents=True, exist_ok=True)
        _run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-sseof", "-0.2", "-i",
              str(tmp_out), "-frames:v", "1", str(frame)], "grab the last frame")
        shutil.move(str(tmp_out), out)
    return out


def scene_clips(scenes: list[SceneSpec], style: Style, cache: Path,
                on_done: Any = None) -> list[Path]:
    """Every scene's clip, from the cache when it was rendered before (same content, settings)."""
    paths: list[Path] = []
    prev_key: str | None = None
    prev_last: Path | None = None
    for i, scene in enumerate(scenes):
        cancel.check()  # a cancelled job stops within a scene
        key = scene.key(style, prev_key)
        out = cache / f"{key}.mp4"
        if not (out.is_file() and out.with_suffix(".last.png").is_file()):
            if scene.visual.get("clip"):
                render_clip_scene(scene, style, out)
            else:
                render_scene(scene, style, prev_last, out)
        paths.append(out)
        prev_key, prev_last = key, out.with_suffix(".last.png")
        if on_done:
            on_done(i + 1, len(scenes))
    return paths


# ----------------------------------------------------------------------------------------- audio

def soundtrack(items: list[tuple[Path, float]], total_s: float, music: bool,
               out: Path) -> float:
    """Narration WAVs placed at their start times (plus jingle ducked under speech) as one WAV.

    Returns the loudness-normalised track's length in seconds (exactly `total_s`)."""
    n = int(round(total_s * AUDIO_RATE))
    mix = np.zeros(n, dtype=np.float64)
    voiced = np.zeros(n, dtype=np.float32)
    for path, start in items:
        x, rate = read_wav(path)
        if rate != AUDIO_RATE:
            x = resample(x, rate / AUDIO_RATE)
        at = int(round(start * AUDIO_RATE))
        x = x[: max(0, n - at)]
        mix[at : at + len(x)] += x
        voiced[at : at + len(x)] = 1.0
    if music and items:
        bed, jrate = read_wav(JINGLE)
        if jrate != AUDIO_RATE:
            bed = resample(bed, jrate / AUDIO_RATE)
        bed = np.tile(bed, n // max(1, len(bed)) + 1)[:n]
        speech_rms = float(np.sqrt(np.mean(mix[voiced > 0] ** 2))) if voiced.any() else 0.1
        brms = float(np.sqrt(np.mean(bed**2))) or 1.0
        bed = bed * (speech_rms * 10 ** (-MUSIC_BELOW_SPEECH_DB / 20) / brms)
        width = int(0.4 * AUDIO_RATE)
        acc = np.concatenate([[0.0], np.cumsum(voiced, dtype=np.float64)])
        lo = np.clip(np.arange(n) - width // 2, 0, n)
        env = ((acc[np.clip(lo + width, 0, n)] - acc[lo]) / width).clip(0, 1)  # moving mean
        duck = 10 ** (-DUCK_DB / 20)
        mix += bed * (1 - env * (1 - duck))
        fade = min(n, int(1.5 * AUDIO_RATE))
        mix[n - fade :] *= np.linspace(1, 0, fade)
    if np.abs(mix).max() > 0:
        mix = normalise(mix, AUDIO_RATE)
    write_wav(out, mix.astype(np.float32), AUDIO_RATE)
    return n / AUDIO_RATE


# ------------------------------------------------------------------------------ captions + final

def _stamp(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt(cues: list[tuple[float, float, str]]) -> str:
    return "".join(f"{i}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{text}\n\n"
                   for i, (a, b, text) in enumerate(cues, 1))


def vtt(cues: list[tuple[float, float, str]]) -> str:
    return "WEBVTT\n\n" + "".join(f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{text}\n\n"
                                  for a, b, text in cues)


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    out = []
    for block in text.strip().split("\n\n"):
        rows = block.splitlines()
        a, b = rows[1].split(" --> ")

        def sec(s: str) -> float:
            h, m, rest = s.strip().split(":")
            return int(h) * 3600 + int(m) * 60 + float(rest.replace(",", "."))

        out.append((sec(a), sec(b), " ".join(rows[2:])))
    return out


def mux(clips: list[Path], audio: Path, out: Path, *, title: str, comment: str,
        subtitles: Path | None = None) -> None:
    """Join the scene clips without re-encoding, add AAC audio, metadata and `+faststart`."""
    with tempfile.TemporaryDirectory(prefix="librarian-mux-") as tmp:
        lst = Path(tmp) / "clips.ffconcat"
        lst.write_text("ffconcat version 1.0\n" + "".join(f"file '{c}'\n" for c in clips))
        cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe",
               "0", "-i", str(lst), "-i", str(audio)]
        if subtitles is not None:
            cmd += ["-i", str(subtitles)]
        cmd += ["-map", "0:v", "-map", "1:a"]
        if subtitles is not None:
            cmd += ["-map", "2:s", "-c:s", "mov_text", "-metadata:s:s:0", "language=eng"]
        cmd += ["-c:v", "copy", "-c:a", "aac", "-b:a", "160k", "-ar", str(AUDIO_RATE),
                "-metadata", f"title={title}", "-metadata", f"comment={comment}",
                "-metadata", "encoder=Librarian", "-movflags", "+faststart", str(out)]
        _run(cmd, "mux the video")


def thumbnail(img_path: Path, out: Path, width: int = 1280) -> None:
    from PIL import Image

    img = Image.open(img_path).convert("RGB")
    img.thumbnail((width, width))
    img.save(out, optimize=True)


@dataclass(frozen=True)
class Probe:
    """What `ffmpeg -i` says about a file."""

    video_codec: str
    audio_codec: str
    width: int
    height: int
    duration_s: float
    comment: str
    subtitle_codec: str


def probe(path: Path) -> Probe:
    """Streams, size, duration and comment of a media file, parsed from `ffmpeg -i`."""
    if not path.is_file():
        raise BadInput(f"no such file: {path}")
    err = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True,
                         text=True, check=False).stderr
    v = re.search(r"Stream #\S+.*?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})", err)
    a = re.search(r"Stream #\S+.*?: Audio: (\w+)", err)
    s = re.search(r"Stream #\S+.*?: Subtitle: (\w+)", err)
    dur = re.search(r"Duration: (\d+):(\d+):([\d.]+)", err)
    com = re.search(r"^\s*comment\s*:\s*(.*)$", err, re.M)
    seconds = (int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3))
               if dur else 0.0)
    return Probe(v.group(1) if v else "", a.group(1) if a else "",
                 int(v.group(2)) if v else 0, int(v.group(3)) if v else 0, seconds,
                 com.group(1).strip() if com else "", s.group(1) if s else "")


def frame_at(path: Path, t: float, out: Path) -> Path:
    """One decoded frame of a video as PNG."""
    _run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-ss", f"{t:.3f}", "-i",
          str(path), "-frames:v", "1", str(out)], f"extract a frame at {t:.1f}s")
    return out
