"""whatsapp templates

Revision ID: e5a8b1c2d3f4
Revises: e7c0d3e4f5b6
Create Date: 2026-12-08 12:00:00.000000

The approved WhatsApp templates of each WhatsApp account (name, language, body with
numbered placeholders, Twilio Content SID, category), which the agent desktop offers
once the customer's 24-hour window is closed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "e5a8b1c2d3f4"
down_revision: str | None = "e7c0d3e4f5b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_sid", sa.String(length=34), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "marketing",
                "utility",
                "authentication",
                name="templatecategory",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_whatsapp_templates_account_id_channel_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_templates")),
        sa.UniqueConstraint(
            "account_id",
            "name",
            "language",
            name=op.f("uq_whatsapp_templates_account_id_name_language"),
        ),
    )
    with op.batch_alter_table("whatsapp_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatsapp_templates_account_id"), ["account_id"])


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_templates_account_id"))
    op.drop_table("whatsapp_templates")
