"""Images a user uploads for their exports (a video's logo): stored per owner, named by id.

A request never names a server path; it names an image id, resolved here against the owner:
either a figure of one of the owner's sources or an image the owner uploaded with `put_image`.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from storage import db, library
from storage.errors import BadInput, NotFound
from storage.objects import objects
from storage.settings import Settings

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
MAX_PIXELS = 4096 * 4096


def _prefix(owner: str) -> str:
    return f"assets/{hashlib.sha256(owner.encode()).hexdigest()[:24]}/"


def check_image(data: bytes) -> str:
    """The image's MIME type, or BadInput when it is not a PNG or JPEG of sane size."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, size = img.format, img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"not a readable image: {exc}") from None
    if fmt not in FORMATS:
        raise BadInput(f"images must be PNG or JPEG, not {fmt}")
    if size[0] * size[1] > MAX_PIXELS:
        raise BadInput(f"image of {size[0]}x{size[1]} pixels is too large")
    return FORMATS[fmt]


async def put_image(settings: Settings, owner: str, data: bytes) -> str:
    """Store an uploaded image for `owner`; returns its id (the hash of its bytes)."""
    mime = check_image(data)
    image_id = "img-" + hashlib.sha256(data).hexdigest()[:32]
    await objects(settings).put(_prefix(owner) + image_id, data, mime)
    return image_id


async def image_key(settings: Settings, owner: str, image_id: str) -> str:
    """The object key of the owner's image `image_id`, or NotFound (also for another owner's)."""
    if image_id.startswith("img-"):
        key = _prefix(owner) + image_id
        if await objects(settings).exists(key):
            return key
    else:
        async with db.session(settings) as s:
            fig = await library.owned_figure(s, image_id, owner)
        if fig is not None and fig.object_key:
            return fig.object_key
    raise NotFound(f"no image {image_id} among your uploads or your sources' figures")


async def image_file(settings: Settings, owner: str, image_id: str) -> Path:
    """The owner's image copied into the local cache (for renderers that read files)."""
    key = await image_key(settings, owner, image_id)
    dest = settings.cache_dir / "assets" / key.replace("/", "_")
    if not dest.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        await objects(settings).get_file(key, dest)
    return dest
