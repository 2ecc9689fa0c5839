"""The two pieces every webhook signature check shares: a keyed digest and a comparison
that leaks nothing through its timing.

Rules:
- an empty secret verifies nothing: anyone can compute an HMAC with an empty key, so a
  channel whose secret was never configured refuses every request;
- signatures are compared as bytes with ``hmac.compare_digest``; text is UTF-8 encoded
  first, because ``compare_digest`` raises ``TypeError`` on non-ASCII ``str`` and a forged
  header must be refused, never crash the check.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["keyed_digest", "same_signature"]

_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}


def keyed_digest(secret: str, message: bytes, *, algorithm: str) -> bytes:
    """HMAC of ``message`` under ``secret`` (UTF-8), with ``algorithm`` ``sha1`` or ``sha256``."""
    return hmac.new(secret.encode("utf-8"), message, _ALGORITHMS[algorithm]).digest()


def same_signature(expected: str, given: str) -> bool:
    """Constant-time equality of two signatures; any text is accepted as ``given``."""
    return hmac.compare_digest(
        expected.encode("utf-8"), given.encode("utf-8", errors="surrogatepass")
    )
