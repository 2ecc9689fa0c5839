"""Logging: structlog, human-readable in development, JSON lines in production.

Values under keys that name secrets are replaced before anything is written, so a
careless ``log.info(..., password=...)`` cannot leak one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["configure_logging", "redact_secrets"]

_SECRET_KEY = re.compile(r"pass(word)?|secret|token|authori[sz]ation|api[_-]?key|cookie", re.I)
REDACTED = "[redacted]"


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if _SECRET_KEY.search(key):
            event_dict[key] = REDACTED
    return event_dict


def configure_logging(*, json: bool, level: int = logging.INFO) -> None:
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level, format="%(message)s")
    # Migration steps are reported by the commands themselves.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
