"""What a channel's sender is, and what it answers the outbound queue.

A sender (``ChannelSender``) is called by ``opencx.features.delivery.outbox`` with
the id of a message the queue has claimed. It reads what it needs, talks to its
provider, and answers with a decision, without writing the message itself:

- ``Delivered``: the provider took the message; its id (a Message-ID, a Twilio SID, a
  wamid, a mid) is stored so the provider's status reports apply to it;
- ``Failed``: nothing was sent; ``retryable`` failures are tried again with backoff
  up to ``max_attempts``, the others fail the message at once with ``error``, which
  the agent reads;
- ``Waiting``: nothing was attempted (the provider is not configured, the message is
  no longer queued); the message stays queued and no attempt is counted.

To send a new channel, write its sender (a module beside ``messaging``) and
list it in ``outbound.SENDERS`` and in ``conversations.messages.SENDABLE``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from opencx.features.context import AppContext
from opencx.settings import Settings

__all__ = ["ChannelSender", "Delivered", "Failed", "Outcome", "Waiting"]


@dataclass(frozen=True, slots=True)
class Delivered:
    """The provider took the message. ``details`` join the message's metadata."""

    provider_message_id: str | None
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Failed:
    """Nothing was sent: ``error`` says why, in the provider's words where it gave some."""

    error: str
    retryable: bool = False
    max_attempts: int = 1


@dataclass(frozen=True, slots=True)
class Waiting:
    """Nothing was attempted; the message stays queued."""

    reason: str


Outcome = Delivered | Failed | Waiting


@dataclass(frozen=True, slots=True)
class ChannelSender:
    """How one channel's messages are sent.

    ``ready`` says whether any provider of the channel is configured (when none is, the
    queue attempts nothing and writes nothing); ``timeout_seconds`` is the longest one
    attempt may take (the claim outlives it); ``send`` makes one attempt.
    """

    name: str
    ready: Callable[[Settings], bool]
    timeout_seconds: Callable[[Settings], float]
    send: Callable[[AppContext, int], Awaitable[Outcome]]
