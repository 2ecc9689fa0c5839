"""Our addresses at each provider (a mailbox, a phone number, a page id), as channel
accounts store them and as intake looks received messages' recipients up: one rule per
provider, declared by its adapter (``normalise_address``), phone numbers by the rule of
``opencx.providers.phones``. A provider without a rule of its own (the review stores, X,
the web chat) names its account by an opaque handle."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from opencx.core.errors import InvalidInput
from opencx.core.identities import normalise_handle
from opencx.providers import email, meta, twilio

__all__ = ["ADDRESS_RULES", "normalise_address"]

#: Each provider's rule; ``imap`` mailboxes are e-mail addresses as ``smtp``'s are.
ADDRESS_RULES: Mapping[str, Callable[[str], str]] = {
    email.PROVIDER: email.normalise_address,
    "imap": email.normalise_address,
    twilio.PROVIDER: twilio.normalise_address,
    meta.PROVIDER: meta.normalise_address,
}


def normalise_address(provider: str, raw: str) -> str:
    """The stored form of ``raw`` at ``provider``; ``InvalidInput`` when it is malformed."""
    rule = ADDRESS_RULES.get(provider, _handle)
    return rule(raw)


def _handle(raw: str) -> str:
    try:
        return normalise_handle(raw)
    except InvalidInput as exc:
        raise InvalidInput(exc.detail, field="address") from None
