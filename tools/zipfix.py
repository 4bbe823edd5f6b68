"""Byte-identical zip containers (EPUB, PPTX, APKG): the same entries in the same order with a
fixed timestamp, so a regenerated export equals the first one."""

from __future__ import annotations

import zipfile
from pathlib import Path

EPOCH = (1980, 1, 1, 0, 0, 0)


def normalise_zip(path: Path) -> None:
    """Rewrite `path` with every entry stamped EPOCH; `mimetype` (EPUB) stays first and stored."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    tmp = path.with_suffix(path.suffix + ".part")
    with zipfile.ZipFile(tmp, "w") as out:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=EPOCH)
            fixed.compress_type = (zipfile.ZIP_STORED if info.filename == "mimetype"
                                   else zipfile.ZIP_DEFLATED)
            fixed.external_attr = 0o644 << 16
            out.writestr(fixed, data)
    tmp.replace(path)
