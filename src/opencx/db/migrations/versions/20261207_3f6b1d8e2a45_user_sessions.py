"""user sessions

Revision ID: 3f6b1d8e2a45
Revises: 3f9c1a7e5b20
Create Date: 2026-12-07 01:30:00.000000

A signed cookie cannot be taken back: sessions become rows that sign-out, a new
password and deactivation end. Deactivation now revokes a user's tokens; the tokens of
users deactivated before this revision are revoked here, so that reactivating one of
them does not bring old tokens back.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "3f6b1d8e2a45"
down_revision: str | None = "3f9c1a7e5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", opencx.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("is_active", sa.Boolean()))
    tokens = sa.table(
        "api_tokens",
        sa.column("user_id", sa.Integer()),
        sa.column("revoked_at", opencx.db.types.UTCDateTime(timezone=True)),
    )
    inactive = sa.select(users.c.id).where(users.c.is_active.is_(False))
    op.execute(
        tokens.update()
        .where(tokens.c.revoked_at.is_(None), tokens.c.user_id.in_(inactive))
        .values(revoked_at=datetime.now(UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
