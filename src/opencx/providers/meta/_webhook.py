"""One entry point for every Meta webhook body: WhatsApp, Messenger and Instagram.

Rules:
- the body must be JSON with an ``object`` and its ``entry`` list, else
  ``UnreadablePayload`` (nothing was taken from it);
- an ``object`` we do not handle, and an event or change kind we do not read, gives
  nothing: Meta adds kinds over time and a subscription may deliver more than we use;
- one batch may mix messages and receipts; items come out in payload order.
"""

from __future__ import annotations

from opencx.core.enums import Channel
from opencx.providers.base import DeliveryUpdate, InboundMessage
from opencx.providers.meta._fields import load_object
from opencx.providers.meta._messenger import parse_messaging
from opencx.providers.meta._whatsapp import parse_whatsapp

__all__ = ["parse_webhook"]


def parse_webhook(raw_body: bytes) -> list[InboundMessage | DeliveryUpdate]:
    """The messages and receipts in a verified webhook body (see the package docstring)."""
    body = load_object(raw_body)
    kind = body.get("object")
    if kind == "whatsapp_business_account":
        return parse_whatsapp(body)
    if kind == "page":
        return parse_messaging(body, Channel.MESSENGER)
    if kind == "instagram":
        return parse_messaging(body, Channel.INSTAGRAM)
    return []
