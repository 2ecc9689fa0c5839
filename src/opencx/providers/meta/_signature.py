"""Is this request from Meta? The payload signature and the subscription handshake.

- ``X-Hub-Signature-256`` is ``sha256=`` and the hex HMAC-SHA256 of the raw body under
  the app secret. It covers the bytes as sent: verify before parsing, never over a
  re-serialised body (Meta escapes non-ASCII as ``\\uXXXX``; ``json.dumps`` would not).
- Subscribing a webhook, Meta sends a GET with ``hub.mode=subscribe``,
  ``hub.verify_token`` (the token we chose) and ``hub.challenge``, which we echo.
"""

from __future__ import annotations

from collections.abc import Mapping

from opencx.providers.signatures import keyed_digest, same_signature

__all__ = ["answer_verification", "verify_signature"]

_PREFIX = "sha256="
_MAX_CHALLENGE = 256


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether ``header`` (``X-Hub-Signature-256``) signs ``raw_body`` under ``app_secret``.

    A missing or malformed header, or an empty secret, is refused.
    """
    if not header or not app_secret or not header.startswith(_PREFIX):
        return False
    expected = keyed_digest(app_secret, raw_body, algorithm="sha256").hex()
    return same_signature(expected, header.removeprefix(_PREFIX).lower())


def answer_verification(params: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo when the handshake names our token; else ``None``.

    The challenge is echoed only when it is short printable ASCII (Meta sends digits), so
    a handler cannot be made to reflect arbitrary content.
    """
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    if not same_signature(verify_token, params.get("hub.verify_token") or ""):
        return None
    challenge = params.get("hub.challenge") or ""
    if not challenge or len(challenge) > _MAX_CHALLENGE or not _printable_ascii(challenge):
        return None
    return challenge


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable() and " " not in value
