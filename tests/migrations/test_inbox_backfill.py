"""Upgrading a database that already holds conversations: they get their last activity
and are searchable at once, as if the services had indexed them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from opencx.db import migrate
from opencx.settings import DatabaseSettings

BEFORE = "c5e2a9d41f73"
ROWS = """
INSERT INTO customers (id, display_name, attributes, created_at, updated_at)
    VALUES (1, 'Hélène Dupré', '{}', '2026-01-01 08:00:00', '2026-01-01 08:00:00');
INSERT INTO customer_identities (id, customer_id, kind, value, verified, confirmed, created_at)
    VALUES (1, 1, 'phone', '+33612345678', false, true, '2026-01-01 08:00:00');
INSERT INTO conversations (id, customer_id, subject, status, priority, created_at, updated_at)
    VALUES (1, 1, 'Réclamation', 'open', 0, '2026-01-01 08:00:00', '2026-01-01 08:00:00');
INSERT INTO conversations (id, customer_id, subject, status, priority, created_at, updated_at)
    VALUES (2, 1, '', 'open', 0, '2026-01-01 08:30:00', '2026-01-01 08:30:00');
INSERT INTO messages (id, conversation_id, channel, direction, author_kind, body_text,
        delivery_status, metadata, created_at)
    VALUES (1, 1, 'email', 'inbound', 'customer', 'Colis abîmé', 'received', '{}',
        '2026-01-02 10:00:00');
INSERT INTO messages (id, conversation_id, channel, direction, author_kind, body_text,
        delivery_status, metadata, created_at)
    VALUES (2, 1, 'email', 'outbound', 'system', 'Accusé de réception', 'queued', '{}',
        '2026-01-02 10:00:05');
"""


def test_existing_conversations_get_their_activity_and_their_terms(database_url: str) -> None:
    database = DatabaseSettings(url=database_url)
    config = migrate.alembic_config(database)
    command.downgrade(config, BEFORE)
    url = sa.make_url(database.async_url)
    sync_url = url.set(
        drivername="postgresql+psycopg" if url.get_backend_name() == "postgresql" else "sqlite"
    )
    engine = sa.create_engine(sync_url)
    try:
        with engine.begin() as connection:
            for statement in ROWS.split(";"):
                if statement.strip():
                    connection.exec_driver_sql(statement)
        migrate.upgrade(database)
        with engine.connect() as connection:
            activity = dict(
                connection.execute(sa.text("SELECT id, last_activity_at FROM conversations")).all()
            )
            conversation_terms = set(
                connection.execute(sa.text("SELECT term, conversation_id FROM conversation_terms"))
            )
            customer_terms = set(
                connection.execute(sa.text("SELECT term, customer_id FROM customer_terms"))
            )
    finally:
        engine.dispose()
    # The customer's message, not the acknowledgement after it; else the creation.
    assert [str(activity[n])[:19] for n in (1, 2)] == ["2026-01-02 10:00:00", "2026-01-01 08:30:00"]
    assert conversation_terms == {("reclamation", 1), ("colis", 1), ("abime", 1)}
    assert customer_terms == {
        ("helene", 1),
        ("dupre", 1),
        ("33612345678", 1),
        ("0612345678", 1),
    }
