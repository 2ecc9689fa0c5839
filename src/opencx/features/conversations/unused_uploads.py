"""Removing files uploaded for an answer that was never written.

Rules:
- an upload waits for its answer (``message_id`` null); one still waiting after
  ``settings.storage.unused_upload_hours`` is removed, its row first, then its bytes;
- the bytes are shared by every row of the same content (blobs are content-addressed),
  so a blob goes only when no row names it any more and it was not written within
  ``BLOB_GRACE_SECONDS``: an upload of the same file that has stored its bytes but not
  yet its row keeps them (see ``FileBlobStore.remove_unused``);
- each run removes rows in chunks, each chunk in its own transaction with one audit
  entry naming the rows, so a long backlog never holds the database for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import bindparam, delete, exists, select

from opencx.db.models import Attachment
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import record_audit

__all__ = ["BLOB_GRACE_SECONDS", "Purged", "purge_unused_uploads"]

#: A blob written (or written again) this recently is kept, named or not.
BLOB_GRACE_SECONDS = 3600.0
_CHUNK = 500

_NAMED = select(exists().where(Attachment.storage_key == bindparam("key")))


@dataclass(frozen=True, slots=True)
class Purged:
    rows: int
    blobs: int


async def purge_unused_uploads(ctx: AppContext) -> Purged:
    """Remove the uploads no answer took within the retention, and the blobs no row
    names any more."""
    retention = timedelta(hours=ctx.settings.storage.unused_upload_hours)
    cutoff = ctx.clock.now() - retention
    rows = 0
    keys: set[str] = set()
    while True:
        async with transaction(ctx) as session:
            found = (
                await session.execute(
                    select(Attachment.id, Attachment.conversation_id, Attachment.storage_key)
                    .where(Attachment.message_id.is_(None), Attachment.created_at < cutoff)
                    .order_by(Attachment.id)
                    .limit(_CHUNK)
                )
            ).all()
            if not found:
                break
            ids = [row.id for row in found]
            await session.execute(
                delete(Attachment)
                .where(Attachment.id.in_(ids), Attachment.message_id.is_(None))
                .execution_options(synchronize_session=False)
            )
            record_audit(
                session,
                ctx,
                actor_user_id=None,
                action="attachment.purge_unused",
                entity_kind="attachment",
                entity_id=None,
                changes={
                    "attachment_ids": ids,
                    "conversation_ids": sorted({row.conversation_id for row in found}),
                    "unused_for_hours": ctx.settings.storage.unused_upload_hours,
                },
            )
        rows += len(found)
        keys.update(row.storage_key for row in found)
    blobs = 0
    for key in sorted(keys):
        if await ctx.blobs.remove_unused(
            key, in_use=partial(_named, ctx, key), grace_seconds=BLOB_GRACE_SECONDS
        ):
            blobs += 1
    return Purged(rows=rows, blobs=blobs)


async def _named(ctx: AppContext, key: str) -> bool:
    """Whether an attachment row names the blob ``key``."""
    async with transaction(ctx) as session:
        return bool(await session.scalar(_NAMED, {"key": key}))
