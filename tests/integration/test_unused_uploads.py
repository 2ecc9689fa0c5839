"""Files uploaded for an answer that was never written are removed after a day; bytes
another attachment shares stay."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from opencx.db.blobs import FileBlobStore
from opencx.db.models import AuditEntry
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.unused_uploads import Purged, purge_unused_uploads
from opencx.testing import FakeClock
from tests.conftest import Caller
from tests.integration.test_outbound_files import PDF, PNG, upload
from tests.integration.test_outbound_messaging import API, answer, whatsapp_conversation
from tests.integration.test_outbound_messaging import api as api  # the fixture
from tests.integration.test_outbound_messaging import providers as providers


@pytest.fixture
def blobs(ctx: AppContext, tmp_path: Path) -> Path:
    """Files on disk, where their times are real."""
    ctx.blobs = FileBlobStore(tmp_path / "blobs")
    return tmp_path / "blobs"


async def draft(api: httpx.AsyncClient, admin: Caller) -> tuple[int, int]:
    """A WhatsApp conversation and a PDF uploaded to it; their ids."""
    cid = await whatsapp_conversation(api, admin)
    return cid, await upload(api, admin, cid, "draft.pdf", PDF, "application/pdf")


def written_hours_ago(root: Path, hours: float) -> None:
    """Every blob under ``root`` last written ``hours`` ago."""
    then = time.time() - hours * 3600
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def leftovers(root: Path) -> list[Path]:
    return list(root.rglob("*.removing"))


async def content(api: httpx.AsyncClient, caller: Caller, attachment_id: int) -> httpx.Response:
    return await api.get(f"{API}/attachments/{attachment_id}/content", headers=caller.headers)


async def test_a_forgotten_upload_goes_after_a_day_and_shared_bytes_stay(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock, blobs: Path
) -> None:
    cid, forgotten = await draft(api, admin)
    sent_file = await upload(api, admin, cid, "label.png", PNG, "image/png")
    sent = await answer(
        api, admin, cid, "whatsapp", body_text="Your label", attachment_ids=[sent_file]
    )
    assert sent.status_code == 201, sent.text
    again = await upload(api, admin, cid, "label (1).png", PNG, "image/png")  # same bytes
    clock.advance(23 * 3600)
    recent = await upload(api, admin, cid, "notes.txt", b"call back at 5", "text/plain")
    written_hours_ago(blobs, 2)
    clock.advance(2 * 3600)  # the first three are 25 h old, the last one 2 h

    assert await purge_unused_uploads(ctx) == Purged(rows=2, blobs=1)

    assert (await content(api, admin, forgotten)).status_code == 404
    assert (await content(api, admin, again)).status_code == 404
    assert (await content(api, admin, sent_file)).content == PNG  # the PNG blob is shared
    assert (await content(api, admin, recent)).content == b"call back at 5"
    assert not leftovers(blobs)
    async with transaction(ctx) as session:
        (entry,) = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "attachment.purge_unused")
        )
    assert entry.changes["attachment_ids"] == [forgotten, again]
    assert entry.changes["conversation_ids"] == [cid]

    assert await purge_unused_uploads(ctx) == Purged(rows=0, blobs=0)  # nothing left to do


async def test_bytes_written_within_the_hour_are_kept_even_when_no_row_names_them(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock, blobs: Path
) -> None:
    """An upload of the same file that has stored its bytes but not its row yet."""
    _, forgotten = await draft(api, admin)
    clock.advance(25 * 3600)

    assert await purge_unused_uploads(ctx) == Purged(rows=1, blobs=0)

    assert (await content(api, admin, forgotten)).status_code == 404
    assert await ctx.blobs.get(hashlib.sha256(PDF).hexdigest()) == PDF
