"""A blob is removed only when no row names it and nobody wrote it lately, whatever a
concurrent upload of the same bytes does meanwhile."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from opencx.core.errors import NotFound
from opencx.db.blobs import FileBlobStore

DATA = b"%PDF-1.7 quote 1182"
HOUR = 3600.0


def files(root: Path, pattern: str) -> list[Path]:
    return [path for path in root.rglob(pattern) if path.is_file()]


async def stored_long_ago(store: FileBlobStore, root: Path) -> str:
    key = await store.put(DATA, content_type="application/pdf")
    then = time.time() - 2 * HOUR
    (path,) = files(root, key)
    os.utime(path, (then, then))
    return key


async def unused() -> bool:
    return False


async def used() -> bool:
    return True


async def test_an_old_unnamed_blob_is_removed(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    key = await stored_long_ago(store, tmp_path)

    assert await store.remove_unused(key, in_use=unused, grace_seconds=HOUR)

    with pytest.raises(NotFound):
        await store.get(key)
    assert await store.remove_unused(key, in_use=unused, grace_seconds=HOUR) is False


async def test_a_named_blob_stays(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    key = await stored_long_ago(store, tmp_path)

    assert await store.remove_unused(key, in_use=used, grace_seconds=HOUR) is False

    assert await store.get(key) == DATA


async def test_a_blob_stored_again_lately_stays(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    key = await stored_long_ago(store, tmp_path)
    assert await store.put(DATA, content_type="application/pdf") == key  # touches it

    assert await store.remove_unused(key, in_use=unused, grace_seconds=HOUR) is False

    assert await store.get(key) == DATA


async def test_an_upload_of_the_same_bytes_during_the_removal_keeps_them(
    tmp_path: Path,
) -> None:
    store = FileBlobStore(tmp_path)
    key = await stored_long_ago(store, tmp_path)

    async def uploaded_meanwhile() -> bool:
        # The upload stored its bytes while the blob was being removed; its row is not
        # committed yet, so nothing names the blob.
        assert await store.put(DATA, content_type="application/pdf") == key
        return False

    await store.remove_unused(key, in_use=uploaded_meanwhile, grace_seconds=HOUR)

    assert await store.get(key) == DATA
    assert not files(tmp_path, "*.removing")


async def test_a_blob_being_checked_is_still_read(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    key = await stored_long_ago(store, tmp_path)
    read: list[bytes] = []

    async def read_meanwhile() -> bool:
        read.append(await store.get(key))
        return True

    await store.remove_unused(key, in_use=read_meanwhile, grace_seconds=HOUR)

    assert read == [DATA]


async def test_a_failing_check_puts_the_blob_back(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    key = await stored_long_ago(store, tmp_path)

    async def database_down() -> bool:
        raise ConnectionError("database unreachable")

    with pytest.raises(ConnectionError):
        await store.remove_unused(key, in_use=database_down, grace_seconds=HOUR)

    assert await store.get(key) == DATA
