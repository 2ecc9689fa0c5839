"""attachment storage key index

Revision ID: 7d4a2c9e1f08
Revises: 5c1e0f3a9b27
Create Date: 2026-11-25 00:30:00.000000

Blobs are content-addressed and shared between attachment rows: before a blob is
removed, the purge of unused uploads asks whether any row still names it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7d4a2c9e1f08"
down_revision: str | None = "5c1e0f3a9b27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachments_storage_key"), ["storage_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_storage_key"))
