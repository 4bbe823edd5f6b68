"""One contract for every object store: the local folder and S3 (moto's server, or MinIO)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.errors import BadInput, NotFound
from storage.objects import LocalObjects, ObjectStore, S3Objects, objects


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjects(tmp_path / "objects")
    s3: S3Objects = request.getfixturevalue("s3_store")
    return s3


async def test_put_get_exists_delete(store: ObjectStore) -> None:
    assert not await store.exists("sources/a/original.pdf")
    await store.put("sources/a/original.pdf", b"%PDF-1.7 bytes", "application/pdf")
    assert await store.exists("sources/a/original.pdf")
    assert await store.get("sources/a/original.pdf") == b"%PDF-1.7 bytes"
    await store.put("sources/a/original.pdf", b"replaced")
    assert await store.get("sources/a/original.pdf") == b"replaced"
    await store.delete("sources/a/original.pdf")
    assert not await store.exists("sources/a/original.pdf")
    await store.delete("sources/a/original.pdf")  # deleting a missing key is not an error


async def test_empty_and_binary_values_round_trip(store: ObjectStore) -> None:
    blob = bytes(range(256)) * 1000
    await store.put("bin/blob", blob)
    await store.put("bin/empty", b"")
    assert await store.get("bin/blob") == blob
    assert await store.get("bin/empty") == b""


async def test_put_file_and_get_file(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(b"x" * 70_000)
    await store.put_file("files/in.bin", src, "application/octet-stream")
    dest = tmp_path / "out.bin"
    assert await store.get_file("files/in.bin", dest) == dest
    assert dest.read_bytes() == src.read_bytes()


async def test_list_delete_prefix_and_copy(store: ObjectStore) -> None:
    for key in ("sources/a/text.txt", "sources/a/figures/000.png", "sources/ab/text.txt",
                "staging/job/original"):
        await store.put(key, key.encode())
    assert await store.list("sources/a/") == ["sources/a/figures/000.png", "sources/a/text.txt"]
    assert await store.list("sources/") == ["sources/a/figures/000.png", "sources/a/text.txt",
                                            "sources/ab/text.txt"]
    assert await store.list("nothing/") == []
    assert await store.list("sources/a") == ["sources/a/figures/000.png", "sources/a/text.txt",
                                             "sources/ab/text.txt"]  # a prefix, not a folder
    assert len(await store.list("")) == 4
    await store.copy("staging/job/original", "sources/ab/original.pdf")
    assert await store.get("sources/ab/original.pdf") == b"staging/job/original"
    assert await store.exists("staging/job/original")
    assert await store.delete_prefix("sources/a/") == 2
    assert await store.list("sources/") == ["sources/ab/original.pdf", "sources/ab/text.txt"]
    assert await store.delete_prefix("staging/job/") == 1
    assert await store.list("staging/") == []


async def test_missing_key_is_not_found(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        await store.get("sources/none/original.pdf")
    with pytest.raises(NotFound):
        await store.get_file("sources/none/original.pdf", tmp_path / "x")
    with pytest.raises(NotFound):
        await store.copy("sources/none/original.pdf", "sources/none/copy.pdf")


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", "a/../../etc/passwd", "a/./b/..", "",
                                 "a b", "a\\..\\b", ".hidden"])
async def test_bad_keys_are_bad_input(store: ObjectStore, key: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput):
        await store.put(key, b"x")
    with pytest.raises(BadInput):
        await store.get(key)
    with pytest.raises(BadInput):
        await store.exists(key)
    with pytest.raises(BadInput):
        await store.delete(key)


async def test_local_store_stays_inside_its_root(tmp_path: Path) -> None:
    store = LocalObjects(tmp_path / "objects")
    await store.put("a/b/c.txt", b"c")
    assert (tmp_path / "objects" / "a" / "b" / "c.txt").read_bytes() == b"c"
    await store.delete("a/b/c.txt")
    assert list((tmp_path / "objects").iterdir()) == []  # emptied folders go too
    assert not (tmp_path / "x").exists()


def test_settings_choose_the_store(tmp_path: Path, s3_server: dict[str, str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.settings import load_settings
    from tests.conftest import clean_env

    clean_env(monkeypatch)
    local = objects(load_settings(home=tmp_path / "h", _env_file=None))
    assert isinstance(local, LocalObjects) and local.root == tmp_path / "h" / "objects"
    s3 = objects(load_settings(home=tmp_path / "h", s3_url=s3_server["url"],
                               s3_access_key=s3_server["access_key"],
                               s3_secret_key=s3_server["secret_key"], _env_file=None))
    assert isinstance(s3, S3Objects)
