"""How far intake trusts an e-mail (the rules are ``opencx.core.mail_trust``'s): its
sender authentication as a trusted relay recorded it, the threading rule of the mailbox
that received it, and the Reply-To addresses it names that the customer is not known by.

Rules:
- every e-mail gets ``metadata["authentication"]`` (``pass``, ``fail`` or ``none``),
  with ``authentication_details`` naming the relay and its results when one is trusted
  (``email_auth.trusted_authserv_ids``), else, with ``email_auth.verify_dkim``, our own
  DKIM check's (in a thread, within ``dkim_timeout_seconds``); a ``fail`` is flagged
  ``auth_failed``;
- a mailbox's rule is its account's ``settings["threading"]`` (``subject`` by default,
  and for a message to an address we have no mailbox for);
- a Reply-To address that is no identity of anyone's is recorded as an unconfirmed
  identity of the message's customer, for an agent to confirm; one that is unconfirmed,
  or another customer's, is named in ``metadata["reply_to_unconfirmed"]``. Answers never
  go to an unconfirmed address.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, IdentityKind
from opencx.core.errors import InvalidInput
from opencx.core.identities import normalise_email
from opencx.core.mail_trust import (
    AuthVerdict,
    ThreadRule,
    aligned_dkim_verdict,
    sender_verdict,
)
from opencx.features.context import AppContext
from opencx.features.customers.identities import find_identity, insert_unconfirmed_email
from opencx.features.directory.channel_accounts import ReceivingAccount
from opencx.providers.base import InboundMessage
from opencx.providers.email import dkim_signatures, trusted_results
from opencx.settings import EmailAuthSettings

__all__ = [
    "AUTH_FAILED",
    "authenticate",
    "named_reply_to",
    "note_reply_to",
    "reply_to_addresses",
    "thread_rule",
    "verdict_of",
]

#: The flag of a message whose sender a trusted relay found forged.
AUTH_FAILED = "auth_failed"


async def authenticate(
    item: InboundMessage, settings: EmailAuthSettings, raw: bytes | None
) -> InboundMessage:
    """``item`` with its sender authentication verdict (e-mail only)."""
    if item.channel is not Channel.EMAIL:
        return item
    fields = item.metadata.get("authentication_results") or ()
    relay = trusted_results(tuple(str(f) for f in fields), settings.trusted_authserv_ids)
    metadata = dict(item.metadata)
    if relay is not None:
        verdict = sender_verdict(relay.results)
        results = " ".join(f"{method}={result}" for method, result in relay.results)
        metadata["authentication_details"] = f"{relay.authserv_id}: {results or 'none'}"
    elif settings.verify_dkim and raw:
        verdict, metadata["authentication_details"] = await _own_dkim(item, settings, raw)
    else:
        verdict = AuthVerdict.NONE
    metadata["authentication"] = verdict.value
    flags = item.flags | {AUTH_FAILED} if verdict is AuthVerdict.FAIL else item.flags
    return replace(item, metadata=metadata, flags=flags)


async def _own_dkim(
    item: InboundMessage, settings: EmailAuthSettings, raw: bytes
) -> tuple[AuthVerdict, str]:
    try:
        async with asyncio.timeout(settings.dkim_timeout_seconds):
            signatures = await asyncio.to_thread(dkim_signatures, raw)
    except TimeoutError:
        return AuthVerdict.NONE, "opencx dkim: not checked in time"
    checked = " ".join(f"{domain or '?'}={result}" for domain, result in signatures)
    verdict = aligned_dkim_verdict(item.sender.value, signatures)
    return verdict, f"opencx dkim: {checked or 'no signature'}"


def verdict_of(item: InboundMessage) -> AuthVerdict | None:
    raw = item.metadata.get("authentication")
    return AuthVerdict(raw) if raw in set(AuthVerdict) else None


def thread_rule(item: InboundMessage, mailbox: ReceivingAccount | None) -> ThreadRule:
    """The rule of ``mailbox``, the one that received ``item``; ``recent`` off e-mail,
    where there are no subjects (a chat continued on WhatsApp is one conversation)."""
    if item.channel is not Channel.EMAIL:
        return ThreadRule.RECENT
    raw = mailbox.settings.get("threading") if mailbox is not None else None
    return ThreadRule(raw) if raw in set(ThreadRule) else ThreadRule.SUBJECT


async def note_reply_to(
    session: AsyncSession, ctx: AppContext, item: InboundMessage, customer_id: int
) -> dict[str, str]:
    """Record the Reply-To addresses ``item`` names that its customer is not known by;
    the metadata that tells the agent."""
    unconfirmed: list[str] = []
    for address in reply_to_addresses(item):
        identity = await find_identity(session, IdentityKind.EMAIL, address)
        if identity is None:
            await insert_unconfirmed_email(session, ctx, customer_id=customer_id, value=address)
            unconfirmed.append(address)
        elif identity.customer_id != customer_id or not identity.confirmed:
            unconfirmed.append(address)
    return {"reply_to_unconfirmed": " ".join(unconfirmed)} if unconfirmed else {}


def reply_to_addresses(item: InboundMessage) -> list[str]:
    """The Reply-To addresses ``item`` names other than its sender (at most five)."""
    sender = item.sender.value.strip().lower()
    return [address for address in named_reply_to(item) if address != sender][:5]


def named_reply_to(item: InboundMessage) -> tuple[str, ...]:
    """Every Reply-To address ``item`` names (e-mail only), normalised, once each, in
    its order; the malformed ones left out."""
    if item.channel is not Channel.EMAIL:
        return ()
    found: dict[str, None] = {}
    for raw in item.metadata.get("reply_to") or ():
        try:
            found.setdefault(normalise_email(str(raw)))
        except InvalidInput:
            continue
    return tuple(found)
