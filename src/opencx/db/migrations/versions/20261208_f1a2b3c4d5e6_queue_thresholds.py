"""queue thresholds

Revision ID: f1a2b3c4d5e6
Revises: e9e2f5a6b7d8
Create Date: 2026-12-08 23:00:00.000000

A queue's alert thresholds for the supervisor cockpit: most contacts waiting, longest
wait, least service level; one optional row per queue, gone with the queue.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "f1a2b3c4d5e6"
down_revision: str | None = "e9e2f5a6b7d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_thresholds",
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("max_waiting", sa.Integer(), nullable=True),
        sa.Column("max_longest_wait_seconds", sa.Integer(), nullable=True),
        sa.Column("min_service_level", sa.Float(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queues.id"],
            name=op.f("fk_queue_thresholds_queue_id_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_queue_thresholds_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("queue_id", name=op.f("pk_queue_thresholds")),
    )


def downgrade() -> None:
    op.drop_table("queue_thresholds")
