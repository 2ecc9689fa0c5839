"""Attachment bytes on local disk, content-addressed (SHA-256), written atomically."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
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

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise NotFound(f"no attachment content {key!r}")
        return self._root / key[:2] / key

    def _put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
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
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no attachment content {key!r}") from None
