"""inbox search and snooze

Revision ID: e4d7fae53a44
Revises: e3c6e9d42f33
Create Date: 2026-12-07 15:30:00.000000

The agent's inbox: a conversation's last activity (newest first in the lists), its
snooze (until when, by whom), and the search index, the terms of each conversation's
subject and messages and of each customer's name and identities (``opencx.core.search``).

Existing rows are carried over: last activity is the last message written by the
customer, an agent or a bot (else the creation), and the index is built from the rows
with the rules of ``opencx.features.search``, the ones the services keep it with.
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

import opencx.db.types

revision: str = "e4d7fae53a44"
down_revision: str | None = "e3c6e9d42f33"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TERM = sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql")
_CHUNK = 5000


def upgrade() -> None:
    op.create_table(
        "customer_terms",
        sa.Column("term", _TERM, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_terms_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "customer_id", name=op.f("pk_customer_terms")),
    )
    with op.batch_alter_table("customer_terms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_terms_customer_id"), ["customer_id"], unique=False
        )
    op.create_table(
        "conversation_terms",
        sa.Column("term", _TERM, nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_terms_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "conversation_id", name=op.f("pk_conversation_terms")),
    )
    with op.batch_alter_table("conversation_terms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_terms_conversation_id"), ["conversation_id"], unique=False
        )

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_activity_at", opencx.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("snoozed_until", opencx.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("snoozed_by_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE conversations SET last_activity_at = COALESCE("
        "(SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id"
        " AND m.author_kind <> 'system'), created_at)"
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column(
            "last_activity_at",
            existing_type=opencx.db.types.UTCDateTime(timezone=True),
            nullable=False,
        )
        batch_op.create_index(
            "ix_conversations_last_activity", ["last_activity_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_snoozed_until"), ["snoozed_until"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_conversations_snoozed_by_id_users"), "users", ["snoozed_by_id"], ["id"]
        )
    _index_existing_rows()


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_conversations_snoozed_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_conversations_snoozed_until"))
        batch_op.drop_index("ix_conversations_last_activity")
        batch_op.drop_column("snoozed_by_id")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("last_activity_at")
    with op.batch_alter_table("conversation_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_terms_conversation_id"))
    op.drop_table("conversation_terms")
    with op.batch_alter_table("customer_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_terms_customer_id"))
    op.drop_table("customer_terms")


# -- the index of the rows already there ------------------------------------------------


def _index_existing_rows() -> None:
    # Imported here: only an upgrade that builds the index needs the rules.
    from opencx.core.enums import IdentityKind
    from opencx.features.search.index import customer_texts
    from opencx.features.search.texts import message_text

    bind = op.get_bind()
    conversations = sa.table(
        "conversations", sa.column("id", sa.Integer), sa.column("subject", sa.String)
    )
    messages = sa.table(
        "messages",
        sa.column("conversation_id", sa.Integer),
        sa.column("author_kind", sa.String),
        sa.column("body_text", sa.Text),
        sa.column("body_html", sa.Text),
        sa.column("metadata", opencx.db.types.JSONType),
    )
    customers = sa.table(
        "customers", sa.column("id", sa.Integer), sa.column("display_name", sa.String)
    )
    identities = sa.table(
        "customer_identities",
        sa.column("customer_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("value", sa.String),
    )
    subjects = bind.execute(sa.select(conversations.c.id, conversations.c.subject))
    _insert(bind, "conversation_terms", "conversation_id", ((r.id, r.subject) for r in subjects))
    written = bind.execute(sa.select(messages).where(messages.c.author_kind != "system")).yield_per(
        _CHUNK
    )
    _insert(
        bind,
        "conversation_terms",
        "conversation_id",
        (
            (
                r.conversation_id,
                message_text(r.body_text or "", r.body_html, (r.metadata or {}).get("subject")),
            )
            for r in written
        ),
    )
    owned: dict[int, list[tuple[IdentityKind, str]]] = {}
    for row in bind.execute(sa.select(identities)):
        owned.setdefault(row.customer_id, []).append((IdentityKind(row.kind), row.value))
    people = bind.execute(sa.select(customers)).yield_per(_CHUNK)
    _insert(
        bind,
        "customer_terms",
        "customer_id",
        (
            (r.id, text)
            for r in people
            for text in customer_texts(r.display_name, owned.get(r.id, []))
        ),
    )


def _insert(bind: Any, table: str, owner: str, texts: Iterable[tuple[int, str]]) -> None:
    from opencx.core.search import terms

    target = sa.table(table, sa.column("term", sa.String), sa.column(owner, sa.Integer))
    insert: Any = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    statement = insert(target).on_conflict_do_nothing()
    for chunk in _chunks(
        (term, owner_id) for owner_id, text in texts if text for term in terms(text)
    ):
        bind.execute(statement, [{"term": term, owner: owner_id} for term, owner_id in chunk])


def _chunks(rows: Iterable[tuple[str, int]]) -> Iterator[list[tuple[str, int]]]:
    chunk: list[tuple[str, int]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
