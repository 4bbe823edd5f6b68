"""Object store: a local folder or any S3 (MinIO client), behind one small interface.

Two real implementations share one contract test (tests/test_objects.py), which is why this
module has a base class.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from storage.errors import BadInput, NotFound
from storage.settings import Settings

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")


def check_key(key: str) -> str:
    """Refuse keys that could escape the store (absolute, '..', odd characters)."""
    if not _KEY.match(key) or ".." in key.split("/") or "//" in key:
        raise BadInput(f"invalid object key: {key!r}")
    return key


class ObjectStore(ABC):
    """Bytes by key. Keys look like `sources/<id>/original.pdf`."""

    @abstractmethod
    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    @abstractmethod
    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> None: ...

    @abstractmethod
    async def get(self, key: str) -> bytes: ...

    @abstractmethod
    async def get_file(self, key: str, dest: Path) -> Path: ...

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def delete(self, key: str) -> None: ...

    @abstractmethod
    async def list(self, prefix: str) -> list[str]: ...

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list(prefix)
        for key in keys:
            await self.delete(key)
        return len(keys)

    async def copy(self, src: str, dst: str) -> None:
        await self.put(dst, await self.get(src))

    async def check(self) -> None:
        """Raise if the store cannot be used (for the health check)."""
        await self.exists("health/probe")


class LocalObjects(ObjectStore):
    """Files under a folder; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        await self._put(self.path(key), lambda tmp: Path(tmp).write_bytes(data))

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        await self._put(self.path(key), lambda tmp: shutil.copyfile(path, tmp))

    async def _put(self, dest: Path, fill: Callable[[str], object]) -> None:
        try:
            await asyncio.to_thread(_atomic, dest, fill)
        except BaseException:
            _prune_dirs(dest.parent, self.root)  # folders made for a write that failed
            raise

    async def get(self, key: str) -> bytes:
        p = self.path(key)
        try:
            return await asyncio.to_thread(p.read_bytes)
        except FileNotFoundError:
            raise NotFound(f"no object {key}") from None

    async def get_file(self, key: str, dest: Path) -> Path:
        p = self.path(key)
        if not p.exists():
            raise NotFound(f"no object {key}")
        await asyncio.to_thread(shutil.copyfile, p, dest)
        return dest

    async def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    async def delete(self, key: str) -> None:
        p = self.path(key)
        p.unlink(missing_ok=True)
        parent = p.parent
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    async def delete_prefix(self, prefix: str) -> int:
        """Delete the keys under `prefix`, and any temp file a crashed write left there."""
        n = await super().delete_prefix(prefix)
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self.path(folder) if folder else self.root
        for p in base.rglob(".tmp-*") if folder and base.is_dir() else ():
            if p.is_file() and p.relative_to(self.root).as_posix().startswith(prefix):
                p.unlink(missing_ok=True)
        if folder:
            _prune_dirs(base, self.root)
        return n

    async def check(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK):
            raise OSError(f"object store folder {self.root} is missing or not writable")

    def sweep_temp(self, older_than_s: float = 3600) -> int:
        """Remove temp files of writes that died (killed process); returns how many."""
        cutoff = time.time() - older_than_s
        gone = 0
        for p in self.root.rglob(".tmp-*"):
            with contextlib.suppress(OSError):
                if p.stat().st_mtime < cutoff:
                    p.unlink()
                    gone += 1
        return gone

    async def list(self, prefix: str) -> list[str]:
        # walk only the prefix's folder, not the whole store (jobs list their staging/ often)
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self.path(folder) if folder else self.root
        out = []
        for p in base.rglob("*") if base.is_dir() else ():
            if p.is_file() and not p.name.startswith(".tmp-"):
                key = p.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    out.append(key)
        return sorted(out)


def _atomic(dest: Path, fill: Callable[[str], object]) -> None:
    """Write through a temp file beside `dest`, then rename; on any failure (a full disk) the
    temp file is removed, so no `.tmp-*` is left behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    os.close(fd)
    try:
        fill(tmp)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _prune_dirs(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


class S3Objects(ObjectStore):
    """Any S3-compatible server through the MinIO client (run in threads: it is synchronous)."""

    def __init__(self, url: str, access_key: str, secret_key: str, bucket: str,
                 region: str = "us-east-1") -> None:
        from minio import Minio

        parts = urlsplit(url)
        self.client = Minio(parts.netloc, access_key=access_key, secret_key=secret_key,
                            secure=parts.scheme == "https", region=region)
        self.bucket = bucket
        self._ready = False

    async def _bucket(self) -> None:
        if not self._ready:
            def _make() -> None:
                if not self.client.bucket_exists(self.bucket):
                    self.client.make_bucket(self.bucket)
            await asyncio.to_thread(_make)
            self._ready = True

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        await self._bucket()
        await asyncio.to_thread(self.client.put_object, self.bucket, check_key(key),
                                io.BytesIO(data), len(data),
                                content_type or "application/octet-stream")

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        await self._bucket()
        await asyncio.to_thread(self.client.fput_object, self.bucket, check_key(key), str(path),
                                content_type or "application/octet-stream")

    async def get(self, key: str) -> bytes:
        from minio.error import S3Error

        await self._bucket()

        def _get() -> bytes:
            resp = self.client.get_object(self.bucket, check_key(key))
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()

        try:
            return await asyncio.to_thread(_get)
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchBucket"}:
                raise NotFound(f"no object {key}") from None
            raise

    async def get_file(self, key: str, dest: Path) -> Path:
        await asyncio.to_thread(dest.write_bytes, await self.get(key))
        return dest

    async def exists(self, key: str) -> bool:
        from minio.error import S3Error

        await self._bucket()
        try:
            await asyncio.to_thread(self.client.stat_object, self.bucket, check_key(key))
            return True
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchBucket", "NoSuchObject"}:
                return False
            raise

    async def delete(self, key: str) -> None:
        await self._bucket()
        await asyncio.to_thread(self.client.remove_object, self.bucket, check_key(key))

    async def list(self, prefix: str) -> list[str]:
        await self._bucket()

        def _list() -> list[str]:
            objs = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            return sorted(o.object_name for o in objs if o.object_name)

        return await asyncio.to_thread(_list)


@lru_cache(maxsize=8)
def _store(root: str, url: str | None, access: str, secret: str, bucket: str,
           region: str) -> ObjectStore:
    if url:
        return S3Objects(url, access, secret, bucket, region)
    return LocalObjects(Path(root))


def objects(settings: Settings) -> ObjectStore:
    """The configured object store: S3 when LIBRARIAN_S3_URL is set, else HOME/objects."""
    access = settings.s3_access_key.get_secret_value() if settings.s3_access_key else ""
    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else ""
    return _store(str(settings.objects_dir), settings.s3_url, access, secret, settings.s3_bucket,
                  settings.s3_region)
