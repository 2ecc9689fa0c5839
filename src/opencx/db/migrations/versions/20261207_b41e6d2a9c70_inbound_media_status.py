"""inbound media status

Revision ID: b41e6d2a9c70
Revises: 7d4a2c9e1f08
Create Date: 2026-12-07 01:30:00.000000

A file a provider holds (an MMS image, a WhatsApp document, a Messenger photo) is an
attachment ``pending`` until a job fetches it, then ``stored`` or ``failed`` with its
reason. Existing attachments are stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "b41e6d2a9c70"
down_revision: str | None = "7d4a2c9e1f08"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "pending",
                    "stored",
                    "failed",
                    name="attachmentstatus",
                    native_enum=False,
                    length=32,
                ),
                server_default="stored",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("source_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("media_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("failure_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("fetch_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("next_fetch_at", opencx.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_attachments_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_status"))
        batch_op.drop_column("next_fetch_at")
        batch_op.drop_column("fetch_attempts")
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("media_id")
        batch_op.drop_column("source_url")
        batch_op.drop_column("status")
