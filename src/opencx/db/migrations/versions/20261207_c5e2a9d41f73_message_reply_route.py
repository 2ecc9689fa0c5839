"""message reply route

Revision ID: c5e2a9d41f73
Revises: 692ac675d55b
Create Date: 2026-12-07 05:00:00.000000

A received message keeps where answers to it go (its ``ReplyRoute``: the mailbox, the
addresses, the thread's ids, the subject) as JSON, read by the e-mail sender as stored.
Messages received before have none: the sender reads their metadata's strings.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "c5e2a9d41f73"
down_revision: str | None = "692ac675d55b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_route", opencx.db.types.JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("reply_route")
