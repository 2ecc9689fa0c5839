"""Where an answer to a received message goes, captured once when the message is stored.

Rules:
- a message's reply route names its channel, the account that received it (the mailbox
  answers are sent from), the addresses it asked answers to go to (its Reply-To, then
  its sender), the ids of the thread it belongs to (oldest first, its own id last) and
  its subject; the sender reads it back as it was stored, never re-parsing the message;
- the address an answer goes to is decided when the answer leaves, by
  ``opencx.core.mail_trust.answer_address`` over the customer's confirmed addresses at
  that moment: an agent may confirm a Reply-To after the message arrived, and an
  unconfirmed one is never used;
- stored as JSON (``to_json``), read back by ``of_json``: a field missing or of the
  wrong shape reads as empty rather than failing (only the channel is required).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opencx.core.enums import Channel
from opencx.core.mail_trust import answer_address

__all__ = ["ReplyRoute"]


@dataclass(frozen=True, slots=True)
class ReplyRoute:
    channel: Channel
    #: The channel account that received the message (for e-mail, the mailbox).
    account_id: int | None
    #: Our address that received it: answers are sent from there.
    mailbox: str | None
    #: The message's sender, as its identity reads.
    sender: str
    #: Reply-To addresses other than the sender, normalised, in the message's order.
    reply_to: tuple[str, ...]
    #: The thread the message belongs to: its references, then the message's own id.
    references: tuple[str, ...]
    subject: str | None

    @property
    def in_reply_to(self) -> str | None:
        """The id of the message an answer answers."""
        return self.references[-1] if self.references else None

    def answer_to(self, confirmed: Sequence[str]) -> str | None:
        """Where an answer goes, given the customer's confirmed e-mail addresses."""
        return answer_address(reply_to=self.reply_to, sender=self.sender, confirmed=confirmed)

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel.value,
            "account_id": self.account_id,
            "mailbox": self.mailbox,
            "sender": self.sender,
            "reply_to": list(self.reply_to),
            "references": list(self.references),
            "subject": self.subject,
        }

    @classmethod
    def of_json(cls, data: Mapping[str, Any]) -> ReplyRoute:
        account_id = data.get("account_id")
        return cls(
            channel=Channel(data["channel"]),
            account_id=account_id if isinstance(account_id, int) else None,
            mailbox=_text(data.get("mailbox")),
            sender=_text(data.get("sender")) or "",
            reply_to=_texts(data.get("reply_to")),
            references=_texts(data.get("references")),
            subject=_text(data.get("subject")),
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str) and item)
