"""Which messages no one typed: auto-replies, bulk mail and bounces.

Rules (RFC 3834 for automatic responses, RFC 3464 for delivery reports):
- ``auto_submitted``: an ``Auto-Submitted`` field other than ``no``, ``X-Autoreply``,
  ``X-Autorespond``, ``Precedence: auto_reply``, any ``multipart/report``, and every
  bulk message and bounce below: never acknowledge one automatically (mail loops);
- ``bulk``: ``Precedence: bulk|junk|list`` or a ``List-Id``/``List-Unsubscribe`` field
  (newsletters, mailing lists);
- ``bounce``: a ``multipart/report; report-type=delivery-status``, mail from
  ``MAILER-DAEMON``, or a null return path (``<>``) on a message that does not declare
  itself an auto-reply (RFC 3834 auto-replies use the null return path too).
"""

from __future__ import annotations

from email.message import Message

from opencx.providers.email._headers import header

__all__ = ["AUTO_SUBMITTED", "BOUNCE", "BULK", "UNPARSED", "automatic_flags"]

AUTO_SUBMITTED = "auto_submitted"
BOUNCE = "bounce"
BULK = "bulk"
UNPARSED = "unparsed"

_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_DAEMONS = ("mailer-daemon", "mailer_daemon")


def automatic_flags(message: Message, sender: str, defects: list[str]) -> set[str]:
    """The flags among ``auto_submitted``, ``bulk`` and ``bounce`` that ``message`` earns."""
    flags: set[str] = set()
    auto_reply = _declares_auto_reply(message, defects)
    if auto_reply or _content_type(message) == "multipart/report":
        flags.add(AUTO_SUBMITTED)
    if _is_bulk(message, defects):
        flags |= {BULK, AUTO_SUBMITTED}
    if _is_bounce(message, sender, defects, auto_reply=auto_reply):
        flags |= {BOUNCE, AUTO_SUBMITTED}
    return flags


def _declares_auto_reply(message: Message, defects: list[str]) -> bool:
    auto_submitted = _token(header(message, "Auto-Submitted", defects))
    if auto_submitted not in (None, "", "no"):
        return True
    for name in ("X-Autoreply", "X-Autorespond"):
        if _token(header(message, name, defects)) not in (None, "no"):
            return True
    return _token(header(message, "Precedence", defects)) == "auto_reply"


def _is_bulk(message: Message, defects: list[str]) -> bool:
    if _token(header(message, "Precedence", defects)) in _BULK_PRECEDENCE:
        return True
    lists = (header(message, name, defects) for name in ("List-Id", "List-Unsubscribe"))
    return any(value is not None for value in lists)


def _is_bounce(message: Message, sender: str, defects: list[str], *, auto_reply: bool) -> bool:
    if _content_type(message) == "multipart/report" and _report_type(message) == "delivery-status":
        return True
    return_path = (header(message, "Return-Path", defects) or "").lower()
    daemon = sender.startswith(_DAEMONS) or any(name in return_path for name in _DAEMONS)
    null_return_path = return_path.replace(" ", "") == "<>"
    return daemon or (null_return_path and not auto_reply)


def _content_type(message: Message) -> str:
    try:
        return message.get_content_type()
    except Exception:  # a malformed Content-Type reads as no report at all
        return "text/plain"


def _report_type(message: Message) -> str:
    try:
        return str(message.get_param("report-type", "")).lower()
    except Exception:  # same as above
        return ""


def _token(value: str | None) -> str | None:
    """The first word of a field such as ``auto-replied; owner=…``, lower-cased."""
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower()
