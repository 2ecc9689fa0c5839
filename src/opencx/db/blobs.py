"""Attachment bytes on local disk, content-addressed (SHA-256), written atomically.

One blob may hold the bytes of many attachment rows (the same file sent twice), so a
blob is removed only when no row names it (``remove_unused``). A ``put`` of bytes
already stored touches the blob: a blob written or re-written within the grace period
is never removed, which keeps an upload that is between its ``put`` and its row from
losing its bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from opencx.core.errors import NotFound

__all__ = ["FileBlobStore"]

_KEY = re.compile(r"^[0-9a-f]{64}$")


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    async def put(self, data: bytes, *, content_type: str) -> str:
        return await asyncio.to_thread(self._put, data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, key)

    async def remove_unused(
        self, key: str, *, in_use: Callable[[], Awaitable[bool]], grace_seconds: float
    ) -> bool:
        """Remove the blob ``key`` unless ``in_use()`` says a row names it or it was
        written within ``grace_seconds``; whether it was removed.

        The blob is first moved aside, then checked, then deleted or put back. A ``put``
        of the same bytes either comes before the move (it touched the blob, which is
        then put back) or after it (it writes the blob anew): the bytes are never lost.
        Putting back over a new copy is harmless: both hold the same bytes."""
        path = self._path(key)
        aside = _aside(path)
        if not await asyncio.to_thread(_move, path, aside):
            return False
        try:
            fresh = time.time() - aside.stat().st_mtime < grace_seconds
            if fresh or await in_use():
                await asyncio.to_thread(os.replace, aside, path)
                return False
        except BaseException:
            await asyncio.to_thread(os.replace, aside, path)
            raise
        await asyncio.to_thread(aside.unlink)
        return True

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise NotFound(f"no attachment content {key!r}")
        return self._root / key[:2] / key

    def _put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        try:
            os.utime(path)  # already stored: it counts as written now
            return key
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        return key

    def _get(self, key: str) -> bytes:
        path = self._path(key)
        # A blob being checked for removal (or left aside by a crash during the check)
        # is still read: only an unused blob is ever deleted.
        for candidate in (path, _aside(path)):
            try:
                return candidate.read_bytes()
            except FileNotFoundError:
                continue
        raise NotFound(f"no attachment content {key!r}")


def _aside(path: Path) -> Path:
    return path.with_name(f"{path.name}.removing")


def _move(source: Path, target: Path) -> bool:
    try:
        os.replace(source, target)
    except FileNotFoundError:
        return False
    return True
