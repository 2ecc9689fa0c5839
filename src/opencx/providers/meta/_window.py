"""The customer-care window: when a business may write freely to a Meta user.

WhatsApp, Messenger and Instagram let a business send any message for 24 hours after
the customer's last message; after that only approved templates (WhatsApp) or tagged
messages (Messenger, Instagram) may be sent. Each new customer message reopens the
window. Pure: the caller passes ``now``.

On Messenger and Instagram a person (never a bot) may still answer for 7 days after the
customer's last message with the ``HUMAN_AGENT`` tag, when Meta has granted the app the
Human Agent permission.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = [
    "CARE_WINDOW",
    "HUMAN_AGENT_TAG",
    "HUMAN_AGENT_WINDOW",
    "care_window_open",
    "human_agent_window_open",
]

#: How long after a customer's last message a business may reply with free-form content.
CARE_WINDOW = timedelta(hours=24)
#: How long a person may answer on Messenger or Instagram with the human-agent tag.
HUMAN_AGENT_WINDOW = timedelta(days=7)
HUMAN_AGENT_TAG = "HUMAN_AGENT"


def care_window_open(last_customer_message_at: datetime, now: datetime) -> bool:
    """Whether a free-form reply is allowed at ``now``; closed from exactly 24 hours on.

    Both datetimes must be timezone-aware; a naive one raises ``ValueError``.
    """
    if last_customer_message_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("care_window_open needs timezone-aware datetimes")
    return now < last_customer_message_at + CARE_WINDOW


def human_agent_window_open(last_customer_message_at: datetime, now: datetime) -> bool:
    """Whether a person may still answer with the ``HUMAN_AGENT`` tag at ``now``;
    closed from exactly 7 days on."""
    if last_customer_message_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("human_agent_window_open needs timezone-aware datetimes")
    return now < last_customer_message_at + HUMAN_AGENT_WINDOW
