"""Bounds of stored ids, so that absurd input is refused as invalid, never a crash."""

from __future__ import annotations

__all__ = ["MAX_BIG_ID", "MAX_ID"]

#: Row ids are INTEGER on PostgreSQL (32-bit): a larger reference names nothing.
MAX_ID = 2**31 - 1
#: The event and audit logs use BIGINT ids.
MAX_BIG_ID = 2**63 - 1
