"""Checking an e-mail's DKIM signatures ourselves (RFC 6376), for mailboxes no trusted
relay checks for us.

Rules:
- each ``DKIM-Signature`` (the first ``MAX_SIGNATURES``) is verified with ``dkimpy``
  (the optional extra ``opencx[dkim]``): ``pass`` or ``fail`` with its signing domain
  (``d=``); a signature that cannot be read is a ``fail``;
- DNS is the caller's to give (``lookup``, dkimpy's ``dnsfunc``): ``None`` uses
  dkimpy's own resolver. The work is blocking: call it from a thread.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_SIGNATURES", "dkim_available", "dkim_signatures"]

#: Signatures checked per message: each costs a DNS query and an RSA verification.
MAX_SIGNATURES = 5

DnsLookup = Callable[..., Any]


def dkim_available() -> bool:
    return importlib.util.find_spec("dkim") is not None


def dkim_signatures(raw: bytes, *, lookup: DnsLookup | None = None) -> tuple[tuple[str, str], ...]:
    """``(domain, "pass" | "fail")`` for each signature of ``raw``, in order."""
    import dkim  # the optional extra: checked when the setting is read

    checker = dkim.DKIM(raw)
    count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
    found: list[tuple[str, str]] = []
    for index in range(min(count, MAX_SIGNATURES)):
        checker = dkim.DKIM(raw)  # one per signature: it keeps the last one's domain
        try:
            kwargs = {"dnsfunc": lookup} if lookup is not None else {}
            passed = bool(checker.verify(idx=index, **kwargs))
        except Exception:  # dkimpy raises DKIMException, and parser errors, alike
            passed = False
        raw_domain = getattr(checker, "domain", None) or b""
        domain = raw_domain.decode("ascii", "replace")
        found.append((domain.lower(), "pass" if passed else "fail"))
    return tuple(found)
