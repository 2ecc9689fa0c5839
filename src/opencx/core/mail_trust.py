"""How far an e-mail is trusted: its sender's authentication, the conversation it may
join, and where answers to it go.

Rules:
- a message's sender authentication is read only from the results a trusted relay
  recorded (an ``Authentication-Results`` field with a configured authserv-id); the
  verdict is ``pass`` when DMARC passed, ``fail`` when DMARC failed, or, with no DMARC
  result, when SPF failed and no DKIM signature passed; anything else is ``none``
  (nothing proven either way). DKIM or SPF passing alone proves nothing about the
  From address, so it never makes ``pass``;
- with no trusted relay, our own DKIM check (when enabled) gives ``pass`` when a
  signature passed for the sender's domain or a parent of it (relaxed alignment, without
  the public suffix list), else ``none``: a broken signature proves nothing (mailing
  lists rewrite messages), so our check never says ``fail``;
- a message whose verdict is ``fail`` never joins an existing conversation: not by its
  references, its subject token, its subject or its sender's recent conversation
  (Message-IDs we send and subject tokens are guessable); an agent may merge it;
- a new e-mail with no reply fields and no token joins the sender's recent open
  conversation only when the mailbox's rule says so: ``subject`` (the default) joins
  one with the same subject (reply prefixes and tokens aside), ``recent`` joins the
  latest whatever its subject;
- answers go to an address the customer is known by: the first Reply-To address that
  is a confirmed identity of the conversation's customer, else the sender when it is
  one, else the customer's first confirmed e-mail identity. A message never changes
  where answers go by itself; an unconfirmed address waits for an agent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import StrEnum

__all__ = [
    "AuthVerdict",
    "ThreadRule",
    "aligned_dkim_verdict",
    "answer_address",
    "may_join_existing",
    "same_subject",
    "sender_verdict",
    "thread_subject",
]


class AuthVerdict(StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    NONE = "none"


class ThreadRule(StrEnum):
    """What a new e-mail without reply fields or token joins (see the module rules)."""

    SUBJECT = "subject"
    RECENT = "recent"


_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|réf|rép|ref|rif|fwd?|tr|wg)\s*(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\[#\d{1,10}\]")


def sender_verdict(results: Iterable[tuple[str, str]]) -> AuthVerdict:
    """The verdict of a trusted relay's ``(method, result)`` pairs."""
    found: dict[str, set[str]] = {}
    for method, result in results:
        found.setdefault(method.strip().lower(), set()).add(result.strip().lower())
    dmarc = found.get("dmarc")
    if dmarc:
        if "fail" in dmarc:
            return AuthVerdict.FAIL
        return AuthVerdict.PASS if "pass" in dmarc else AuthVerdict.NONE
    if "fail" in found.get("spf", set()) and "pass" not in found.get("dkim", set()):
        return AuthVerdict.FAIL
    return AuthVerdict.NONE


def aligned_dkim_verdict(sender: str, signatures: Iterable[tuple[str, str]]) -> AuthVerdict:
    """Our own DKIM check's verdict on ``sender`` (an address) from ``(domain, result)``
    pairs."""
    domain = sender.rpartition("@")[2].strip().lower().rstrip(".")
    for signer, result in signatures:
        signer = signer.strip().lower().rstrip(".")
        aligned = domain == signer or (domain.endswith(f".{signer}") and "." in signer)
        if result == "pass" and signer and aligned:
            return AuthVerdict.PASS
    return AuthVerdict.NONE


def may_join_existing(verdict: AuthVerdict | None) -> bool:
    """Whether a message with ``verdict`` may be threaded into an existing conversation."""
    return verdict is not AuthVerdict.FAIL


def thread_subject(subject: str | None) -> str:
    """The words of a subject that name its matter: no reply or forward prefixes, no
    ticket tokens, spaces tidied, case folded."""
    text = _TOKEN.sub(" ", subject or "")
    text = _REPLY_PREFIX.sub("", " ".join(text.split()))
    return " ".join(text.split()).casefold()


def same_subject(first: str | None, second: str | None) -> bool:
    """Whether two subjects name the same matter (an empty subject names none)."""
    one = thread_subject(first)
    return bool(one) and one == thread_subject(second)


def answer_address(*, reply_to: Sequence[str], sender: str, confirmed: Sequence[str]) -> str | None:
    """Where an answer to a message goes, ``confirmed`` being the conversation
    customer's confirmed e-mail identities, oldest first; ``None`` when there is none."""
    known = set(confirmed)
    for address in (*reply_to, sender):
        if address and address in known:
            return address
    return confirmed[0] if confirmed else None
