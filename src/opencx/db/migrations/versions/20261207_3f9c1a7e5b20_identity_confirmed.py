"""identity confirmed

Revision ID: 3f9c1a7e5b20
Revises: b41e6d2a9c70
Create Date: 2026-12-07 01:40:00.000000

Existing identities are confirmed: they are how their customers were found or entered.
Only an address a message names (its Reply-To) starts unconfirmed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f9c1a7e5b20"
down_revision: str | None = "b41e6d2a9c70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_identities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_identities", schema=None) as batch_op:
        batch_op.drop_column("confirmed")
