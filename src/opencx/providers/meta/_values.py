"""The one value Meta needs beyond ``opencx.providers.base``: a receipt by watermark."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opencx.core.enums import Channel
from opencx.providers.base import DeliveryUpdate, Sender

__all__ = ["WatermarkUpdate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WatermarkUpdate(DeliveryUpdate):
    """Everything we sent to ``customer`` from ``recipient`` up to ``watermark`` reached
    ``status`` (Messenger read receipts, and delivery receipts that list no message).

    Messenger does not name the messages: a receipt says "all messages sent before this
    instant", so ``provider_message_id`` is empty and the service marks every outbound
    message of that conversation with ``sent_at <= watermark``. ``at`` is when the
    receipt happened, when Meta says so.
    """

    channel: Channel
    customer: Sender
    recipient: str
    watermark: datetime
