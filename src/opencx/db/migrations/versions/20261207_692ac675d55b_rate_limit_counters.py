"""rate limit counters

Revision ID: 692ac675d55b
Revises: 3f6b1d8e2a45
Create Date: 2026-12-07 01:30:00.000000

Sign-in and public chat limits, counted in the database when it is PostgreSQL so that
every node shares them (without a Redis bus).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "692ac675d55b"
down_revision: str | None = "3f6b1d8e2a45"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_limit_counters_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limit_counters_expires_at"))
    op.drop_table("rate_limit_counters")
