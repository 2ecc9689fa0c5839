"""Housekeeping jobs that keep tables from growing without bound."""

from __future__ import annotations

from datetime import timedelta

import structlog

from opencx.features.context import AppContext
from opencx.features.conversations.unused_uploads import purge_unused_uploads as purge_uploads
from opencx.features.idempotency import purge_idempotency_records as purge_records
from opencx.jobs.registry import job

__all__ = ["IDEMPOTENCY_RETENTION", "purge_idempotency_records", "purge_unused_uploads"]

log = structlog.get_logger(__name__)

#: How long a client may retry a create with the same ``Idempotency-Key``.
IDEMPOTENCY_RETENTION = timedelta(hours=24)


@job("purge_idempotency_records", every=timedelta(hours=1))
async def purge_idempotency_records(ctx: AppContext) -> None:
    """Forget idempotency keys older than the retry window."""
    removed = await purge_records(ctx, older_than=IDEMPOTENCY_RETENTION)
    log.info("purged idempotency records", removed=removed)


@job("purge_unused_uploads", every=timedelta(hours=1))
async def purge_unused_uploads(ctx: AppContext) -> None:
    """Remove files uploaded for answers never written, and their unshared bytes."""
    purged = await purge_uploads(ctx)
    log.info("purged unused uploads", rows=purged.rows, blobs=purged.blobs)
