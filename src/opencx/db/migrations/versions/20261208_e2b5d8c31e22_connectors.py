"""connectors

Revision ID: e2b5d8c31e22
Revises: c5e2a9d41f73
Create Date: 2026-12-08 09:00:00.000000

Connectors to business systems: an HTTP lookup per connector (URL template, auth with
a sealed credential, field mapping, timeout, cache seconds, site scope) that the agent
desktop shows beside a customer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "e2b5d8c31e22"
down_revision: str | None = "c5e2a9d41f73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("labels", opencx.db.types.JSONType, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("url_template", sa.Text(), nullable=False),
        sa.Column(
            "auth_kind",
            sa.Enum(
                "none",
                "bearer",
                "basic",
                "header",
                name="authkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("auth_username", sa.String(length=200), nullable=True),
        sa.Column("auth_header", sa.String(length=100), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("fields", opencx.db.types.JSONType, nullable=False),
        sa.Column("timeout_ms", sa.Integer(), nullable=False),
        sa.Column("cache_seconds", sa.Integer(), nullable=False),
        sa.Column("site_ids", opencx.db.types.JSONType, nullable=False),
        sa.Column("created_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connectors")),
        sa.UniqueConstraint("name", name=op.f("uq_connectors_name")),
    )


def downgrade() -> None:
    op.drop_table("connectors")
