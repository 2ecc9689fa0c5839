"""uploads before messages

Revision ID: 5c1e0f3a9b27
Revises: aec952aefe3d
Create Date: 2026-11-24 20:40:00.000000

An attachment names its conversation and who uploaded it, and may wait without a
message until the answer that carries it is written. Existing attachments take their
message's conversation.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0f3a9b27"
down_revision: str | None = "aec952aefe3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE attachments SET conversation_id = "
        "(SELECT messages.conversation_id FROM messages WHERE messages.id = attachments.message_id)"
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column("conversation_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_attachments_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_attachments_conversation_id_conversations"),
            "conversations",
            ["conversation_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_attachments_uploaded_by_user_id_users"),
            "users",
            ["uploaded_by_user_id"],
            ["id"],
        )


def downgrade() -> None:
    op.execute("DELETE FROM attachments WHERE message_id IS NULL")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_attachments_uploaded_by_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_attachments_conversation_id_conversations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_attachments_conversation_id"))
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("uploaded_by_user_id")
        batch_op.drop_column("conversation_id")
