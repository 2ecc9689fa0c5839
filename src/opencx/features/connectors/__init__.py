"""Connectors to the company's business systems (billing, contracts, delivery tracking):
configured by admins without IT, asked live about a customer from the agent desktop.

Modules: ``schemas`` (API shapes), ``config`` (admins' configuration), ``calls`` (one
HTTP call and how it ended), ``cache`` (answers kept per connector and customer),
``panel`` (what an agent sees; an admin's dry run). The pure rules are
``opencx.core.connectors``; ``docs/connectors.md`` is the reference.
"""

from opencx.features.connectors.config import (
    create_connector,
    delete_connector,
    get_connector,
    list_connectors,
    update_connector,
)
from opencx.features.connectors.panel import customer_connectors, test_connector
from opencx.features.connectors.schemas import (
    ConnectorCreate,
    ConnectorOut,
    ConnectorResult,
    ConnectorTestIn,
    ConnectorTestOut,
    ConnectorUpdate,
)

__all__ = [
    "ConnectorCreate",
    "ConnectorOut",
    "ConnectorResult",
    "ConnectorTestIn",
    "ConnectorTestOut",
    "ConnectorUpdate",
    "create_connector",
    "customer_connectors",
    "delete_connector",
    "get_connector",
    "list_connectors",
    "test_connector",
    "update_connector",
]
