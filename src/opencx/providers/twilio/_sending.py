"""Sending a message through Twilio's Messages API, as values: the request to make and
what its answer means. No I/O: the service posts the request and passes the answer back.

The call, as Twilio documents it:
- ``POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json``, HTTP basic auth
  with the Account SID and the auth token, a form body;
- ``To`` and ``From``: an SMS address is a number in E.164, a WhatsApp one the same
  number prefixed ``whatsapp:`` (``whatsapp:+14155238886``); ``Body`` is the text,
  ``MediaUrl`` (repeatable) public media, ``StatusCallback`` where Twilio reports the
  message's progress; a WhatsApp template is ``ContentSid`` (``HX…``) with
  ``ContentVariables``, a JSON object of the placeholders (``{"1": "48213"}``);
- a created message answers ``201`` with the Message resource (``sid``, ``status``,
  ``error_code``, ``error_message``…); a refusal answers ``4xx``/``5xx`` with
  ``{code, message, more_info, status}``.

Classification (``SendError.retryable``): no answer at all (network, timeout), ``429``
and any ``5xx`` are worth retrying; any other ``4xx`` is final (``21211`` invalid
``To``, ``21610`` the recipient answered STOP, ``63016`` outside the WhatsApp window,
``20003`` bad credentials…): the same request would be refused again.

Twilio offers no idempotency key for this call: a request whose answer was lost may
have created a message, and retrying it may send a second one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opencx.core.enums import Channel, DeliveryStatus
from opencx.providers.twilio._status import STATUSES

__all__ = [
    "API_VERSION",
    "RETRYABLE_CODES",
    "WINDOW_CODES",
    "Accepted",
    "MessageRequest",
    "SendError",
    "build_message_request",
    "is_retryable",
    "network_error",
    "read_send_response",
    "template_refusal",
]

#: How a Content API content's SID begins: Twilio sends a WhatsApp template by it.
CONTENT_SID_PREFIX = "HX"


def template_refusal(name: str, *, with_file: bool) -> tuple[str, str] | None:
    """``(field, reason)`` when Twilio cannot send WhatsApp template ``name`` (with a
    file); ``None`` when it can. A template is its Content SID, and its media is part of
    that content: Twilio takes no file beside it."""
    if not name.startswith(CONTENT_SID_PREFIX):
        return (
            "template",
            "through Twilio a WhatsApp template is sent by its Content SID (HX…), "
            f"not by name ({name!r})",
        )
    if with_file:
        return (
            "attachment_ids",
            "through Twilio a WhatsApp template's media is part of its content "
            "(Content API): send the template without a file",
        )
    return None


API_VERSION = "2010-04-01"
#: Twilio error codes worth retrying later whatever the HTTP status says.
RETRYABLE_CODES = frozenset({20429, 20500, 20503})
#: "Outside the allowed window": a free-form WhatsApp message more than 24 hours after
#: the customer last wrote (Twilio's mapping of WhatsApp's own 470).
WINDOW_CODES = frozenset({63016})
_WHATSAPP = "whatsapp:"


@dataclass(frozen=True, slots=True)
class MessageRequest:
    """One Messages API call: POST ``form`` to ``url`` with basic auth."""

    url: str
    form: tuple[tuple[str, str], ...]
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Accepted:
    """Twilio created the message: ``sid`` names it in status callbacks (empty when
    the answer could not be read, which still means the message exists)."""

    sid: str
    status: str
    error_code: str | None = None
    error_message: str | None = None

    @property
    def delivery_status(self) -> DeliveryStatus:
        """Our status for it (a new message is at least queued at Twilio)."""
        return STATUSES.get(self.status, DeliveryStatus.QUEUED)


@dataclass(frozen=True, slots=True)
class SendError:
    """Twilio refused the message, or never answered (``http_status`` is ``None``)."""

    http_status: int | None
    code: int | None
    message: str
    more_info: str | None = None
    retryable: bool = False
    outside_window: bool = False

    def describe(self) -> str:
        """What the agent reads: Twilio's code and message, and what the code means."""
        code = f"Twilio error {self.code}" if self.code is not None else "Twilio"
        status = f" (HTTP {self.http_status})" if self.http_status is not None else ""
        text = f"{code}: {self.message}{status}"
        if self.outside_window:
            return (
                "outside the 24-hour WhatsApp window: only an approved template may be "
                f"sent. {text}"
            )
        return text


def build_message_request(
    *,
    api_base: str,
    account_sid: str,
    auth_token: str,
    channel: Channel,
    to: str,
    from_: str,
    body: str = "",
    media_urls: Sequence[str] = (),
    status_callback: str | None = None,
    content_sid: str | None = None,
    content_variables: Mapping[str, str] | None = None,
) -> MessageRequest:
    """The call that sends ``body`` (or the template ``content_sid``) from ``from_`` to
    ``to``, both numbers in E.164 (WhatsApp addresses get their ``whatsapp:`` prefix)."""
    if not (body or media_urls or content_sid):
        raise ValueError("a Twilio message needs a Body, a MediaUrl or a ContentSid")
    form = [("To", _address(channel, to)), ("From", _address(channel, from_))]
    if content_sid:
        form.append(("ContentSid", content_sid))
        if content_variables:
            form.append(("ContentVariables", json.dumps(dict(content_variables))))
    elif body:
        form.append(("Body", body))
    form.extend(("MediaUrl", url) for url in media_urls)
    if status_callback:
        form.append(("StatusCallback", status_callback))
    url = f"{api_base.rstrip('/')}/{API_VERSION}/Accounts/{account_sid}/Messages.json"
    return MessageRequest(url=url, form=tuple(form), username=account_sid, password=auth_token)


def read_send_response(http_status: int, body: bytes) -> Accepted | SendError:
    """What Twilio's answer to a ``MessageRequest`` means."""
    data = _json_object(body) or {}
    if 200 <= http_status < 300:
        # A 2xx created the message even when its body cannot be read: never resend it.
        return Accepted(
            sid=_text(data, "sid") or "",
            status=_text(data, "status") or "queued",
            error_code=_text(data, "error_code"),
            error_message=_text(data, "error_message"),
        )
    return _error(http_status, data)


def network_error(detail: str) -> SendError:
    """No answer came (connection refused, timeout…): worth retrying."""
    return SendError(None, None, detail or "no answer", retryable=True)


def is_retryable(http_status: int | None, code: int | None) -> bool:
    """Whether the same request may succeed later (see the module docstring)."""
    if http_status is None or code in RETRYABLE_CODES:
        return True
    return http_status == 429 or http_status >= 500


def _error(http_status: int, data: Mapping[str, Any]) -> SendError:
    raw_code = data.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    message = _text(data, "message") or _text(data, "detail") or f"HTTP {http_status}"
    return SendError(
        http_status=http_status,
        code=code,
        message=message,
        more_info=_text(data, "more_info"),
        retryable=is_retryable(http_status, code),
        outside_window=code in WINDOW_CODES,
    )


def _address(channel: Channel, number: str) -> str:
    bare = number.strip().removeprefix(_WHATSAPP)
    return f"{_WHATSAPP}{bare}" if channel is Channel.WHATSAPP else bare


def _json_object(body: bytes) -> Mapping[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return None
    return str(value) if isinstance(value, str | int) else None
