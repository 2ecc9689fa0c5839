"""report intervals

Revision ID: e7c0d3e4f5b6
Revises: e1a4c7b20d11
Create Date: 2026-12-08 10:00:00.000000

The KPIs' 15-minute interval counters materialised from the event log, where their
fold stands in it, and each queue's short-abandon threshold.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "e7c0d3e4f5b6"
down_revision: str | None = "e1a4c7b20d11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_intervals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("start", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("transferred_in", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("answered_in_target", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("abandoned_in_target", sa.Integer(), nullable=False),
        sa.Column("abandoned_short", sa.Integer(), nullable=False),
        sa.Column("deflected", sa.Integer(), nullable=False),
        sa.Column("answer_wait_seconds", sa.Float(), nullable=False),
        sa.Column("abandon_wait_seconds", sa.Float(), nullable=False),
        sa.Column("longest_wait_seconds", sa.Float(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("talk_seconds", sa.Float(), nullable=False),
        sa.Column("hold_seconds", sa.Float(), nullable=False),
        sa.Column("wrap_seconds", sa.Float(), nullable=False),
        sa.Column("transferred", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("repeated", sa.Integer(), nullable=False),
        sa.Column("busy_seconds", sa.Float(), nullable=False),
        sa.Column("available_seconds", sa.Float(), nullable=False),
        sa.Column("backlog_at", sa.Float(), nullable=True),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.Column("backlog_oldest", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_intervals")),
    )
    with op.batch_alter_table("report_intervals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_intervals_start_queue", ["start", "queue_id"], unique=False
        )

    op.create_table(
        "report_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("state", opencx.db.types.JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_progress")),
    )
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("short_abandon_seconds", sa.Integer(), server_default="5", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("short_abandon_seconds")

    op.drop_table("report_progress")
    with op.batch_alter_table("report_intervals", schema=None) as batch_op:
        batch_op.drop_index("ix_report_intervals_start_queue")

    op.drop_table("report_intervals")
