"""The recorded messages under ``messages/``, as real clients wrote them."""

from __future__ import annotations

from pathlib import Path

from opencx.providers.base import InboundMessage
from opencx.providers.email import parse_email

MESSAGES = Path(__file__).parent / "messages"
NAMES = tuple(sorted(path.name for path in MESSAGES.glob("*.eml")))
SUPPORT = "support@shop.example.com"


def raw(name: str) -> bytes:
    return (MESSAGES / name).read_bytes()


def parse(name: str) -> InboundMessage:
    return parse_email(raw(name), recipient=SUPPORT)
