"""channel account settings

Revision ID: aec952aefe3d
Revises: ad06db823164
Create Date: 2026-11-24 12:17:40.509322

Existing accounts get empty settings and cursor; no credential.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "aec952aefe3d"
down_revision: str | None = "ad06db823164"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("settings", opencx.db.types.JSONType, nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("secret", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("cursor", opencx.db.types.JSONType, nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.drop_column("cursor")
        batch_op.drop_column("secret")
        batch_op.drop_column("settings")
