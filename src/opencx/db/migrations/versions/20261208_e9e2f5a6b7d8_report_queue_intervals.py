"""report queue intervals

Revision ID: e9e2f5a6b7d8
Revises: e5a8b1c2d3f4
Create Date: 2026-12-08 12:00:00.000000

The interval counters summed over agents (by queue, site and channel), written beside
``report_intervals``: reports by queue or site read ten times fewer rows; reports
by agent read ``report_intervals`` by start and agent. Filled here
from the stored rows (the sums a report by queue computed from them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "e9e2f5a6b7d8"
down_revision: str | None = "e5a8b1c2d3f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_queue_intervals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("start", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_queue_intervals")),
    )
    with op.batch_alter_table("report_queue_intervals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_queue_intervals_start_queue", ["start", "queue_id"], unique=False
        )

    with op.batch_alter_table("report_intervals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_intervals_start_agent", ["start", "agent_id"], unique=False
        )

    # Filled from the stored rows: the sums a report by queue made of them.
    summed = [
        c for c in _COUNTERS if c not in ("longest_wait_seconds", "backlog_at", "backlog_oldest")
    ]
    sums = ", ".join(
        [f"SUM({c})" for c in summed]
        + ["MAX(longest_wait_seconds)", "MAX(backlog_at)", "MIN(backlog_oldest)"]
    )
    columns = ", ".join([*summed, "longest_wait_seconds", "backlog_at", "backlog_oldest"])
    op.execute(
        f"INSERT INTO report_queue_intervals (start, queue_id, site_id, channel, {columns}) "  # noqa: S608 - our names
        f"SELECT start, queue_id, site_id, channel, {sums} FROM report_intervals "
        "GROUP BY start, queue_id, site_id, channel"
    )


_COUNTERS = (
    "offered",
    "transferred_in",
    "answered",
    "answered_in_target",
    "abandoned",
    "abandoned_in_target",
    "abandoned_short",
    "deflected",
    "answer_wait_seconds",
    "abandon_wait_seconds",
    "longest_wait_seconds",
    "handled",
    "talk_seconds",
    "hold_seconds",
    "wrap_seconds",
    "transferred",
    "completed",
    "repeated",
    "busy_seconds",
    "available_seconds",
    "backlog_at",
    "backlog",
    "backlog_oldest",
)


def downgrade() -> None:
    with op.batch_alter_table("report_intervals", schema=None) as batch_op:
        batch_op.drop_index("ix_report_intervals_start_agent")
    with op.batch_alter_table("report_queue_intervals", schema=None) as batch_op:
        batch_op.drop_index("ix_report_queue_intervals_start_queue")

    op.drop_table("report_queue_intervals")
