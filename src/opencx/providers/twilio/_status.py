"""What became of a message we sent through Twilio: its status callback.

``MessageStatus`` maps onto ``DeliveryStatus`` (an incoming-message webhook, which has
only the deprecated ``SmsStatus``, is refused):

=========================================== ============
accepted, scheduled, queued, sending         QUEUED
sent                                         SENT
delivered, partially_delivered               DELIVERED
read                                         READ
undelivered, failed, canceled                FAILED
receiving, received                          RECEIVED
=========================================== ============

``ErrorCode`` and ``ErrorMessage`` come along when Twilio sends them. ``at`` stays
``None``: the callback carries no time of its own (``RawDlrDoneDate`` is a carrier's
minute-precision date without a timezone). A voice status callback (``CallSid``,
``CallStatus``) is not a message status: ``UnreadablePayload``.
"""

from __future__ import annotations

from opencx.core.enums import DeliveryStatus
from opencx.providers.base import DeliveryUpdate, UnreadablePayload
from opencx.providers.twilio._params import PROVIDER, Params, first_values

__all__ = ["STATUSES", "parse_status"]

#: Twilio's message statuses in our terms.
STATUSES = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "partially_delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
    "receiving": DeliveryStatus.RECEIVED,
    "received": DeliveryStatus.RECEIVED,
}


def parse_status(params: Params) -> DeliveryUpdate:
    """The update in a message status callback; ``UnreadablePayload`` for anything else."""
    values = first_values(params)
    sid = values.get("MessageSid") or values.get("SmsSid")
    if not sid:
        kind = "a voice call callback" if values.get("CallSid") else "no MessageSid"
        raise UnreadablePayload(f"not a message status callback ({kind})")
    raw_status = values.get("MessageStatus", "").strip()
    status = STATUSES.get(raw_status.lower())
    if status is None:
        raise UnreadablePayload(f"unknown message status {raw_status!r}")
    return DeliveryUpdate(
        provider=PROVIDER,
        provider_message_id=sid,
        status=status,
        error_code=values.get("ErrorCode", "").strip() or None,
        error_message=values.get("ErrorMessage", "").strip() or None,
    )
