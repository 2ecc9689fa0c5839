"""canned responses and knowledge base

Revision ID: e1a4c7b20d11
Revises: e4d7fae53a44
Create Date: 2026-12-07 15:30:00.000000

The agent's toolbox: canned responses (company, team or personal, with a shortcut
unique within its scope) and knowledge-base articles (tagged, published or not). Both
may belong to a site; with none, they are the company's, shared by every site.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import opencx.db.types

revision: str = "e1a4c7b20d11"
down_revision: str | None = "e4d7fae53a44"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", opencx.db.types.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("shortcut", sa.String(length=40), nullable=True),
        sa.Column(
            "scope",
            sa.Enum(
                "company", "team", "personal", name="cannedscope", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("scope_key", sa.String(length=40), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_canned_responses_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_canned_responses_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_canned_responses_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint(
            "scope_key", "shortcut", name=op.f("uq_canned_responses_scope_key_shortcut")
        ),
    )
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        for column in ("locale", "owner_id", "scope", "site_id", "team_id"):
            batch_op.create_index(batch_op.f(f"ix_canned_responses_{column}"), [column])

    op.create_table(
        "knowledge_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("tags", opencx.db.types.JSONType, nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_knowledge_articles_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_knowledge_articles_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_articles")),
    )
    with op.batch_alter_table("knowledge_articles", schema=None) as batch_op:
        for column in ("locale", "published", "site_id"):
            batch_op.create_index(batch_op.f(f"ix_knowledge_articles_{column}"), [column])


def downgrade() -> None:
    with op.batch_alter_table("knowledge_articles", schema=None) as batch_op:
        for column in ("site_id", "published", "locale"):
            batch_op.drop_index(batch_op.f(f"ix_knowledge_articles_{column}"))
    op.drop_table("knowledge_articles")
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        for column in ("team_id", "site_id", "scope", "owner_id", "locale"):
            batch_op.drop_index(batch_op.f(f"ix_canned_responses_{column}"))
    op.drop_table("canned_responses")
