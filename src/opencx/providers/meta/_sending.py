"""Sending through Meta's Graph API, as values: the request to make and what its answer
means. No I/O: the service posts the request and passes the answer back.

The calls, as Meta documents them (JSON bodies, ``Authorization: Bearer <token>``):
- WhatsApp Cloud API: ``POST {graph}/{version}/{phone_number_id}/messages`` with
  ``messaging_product: whatsapp``, ``recipient_type: individual``, ``to`` (the user's
  number, digits only; a user known only by business-scoped user id is addressed by
  ``recipient``) and ``type``: ``text`` (``text.body``) or ``template`` (``name``,
  ``language.code`` and ``components``: the body's ``parameters``, and for a template
  with a media header a ``header`` component whose one parameter is an ``image``,
  ``video`` or ``document`` with its ``link``, a document also with its ``filename``),
  or a file: ``image``, ``video``,
  ``audio`` or ``document``, each an object with the ``link`` Meta downloads it from
  and, but for audio, a ``caption`` (a document also its ``filename``); the type
  follows the file's content type (JPEG and PNG images; MP4 and 3GPP video; AAC, AMR,
  MPEG, MP4 and OGG audio), anything else goes as a document. The answer names the
  message in ``messages[0].id`` (a ``wamid``), the id that status webhooks carry.
- Messenger and Instagram Send API: ``POST {graph}/{version}/{page or Instagram account
  id}/messages`` with ``recipient.id`` (the page- or Instagram-scoped user id),
  ``messaging_type: RESPONSE`` and ``message.text``, or ``message.attachment``
  (``type`` image, video, audio or file, ``payload.url`` where Meta downloads it); a
  person answering after the 24-hour window sends ``messaging_type: MESSAGE_TAG`` with
  ``tag: HUMAN_AGENT`` instead. The answer's ``message_id`` (a ``mid``) is what
  delivery and read webhooks name.
- A refusal is ``{"error": {message, type, code, error_subcode, error_data,
  is_transient, fbtrace_id}}``.

Classification (``SendError.retryable``): no answer, ``429``, ``5xx``, an error marked
``is_transient`` and the throttling and temporary codes (``RETRYABLE_CODES``) are worth
retrying; every other refusal is final. ``SendError.outside_window`` marks a free-form
message refused because the customer-care window is closed (WhatsApp ``131047``;
Messenger ``10``/``2018278``, Instagram ``10``/``2534022``): only a WhatsApp template, or
the customer writing again, gets through.

Meta offers no idempotency key for these calls: a request whose answer was lost may
have been delivered, and retrying it may send a second message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MESSAGING_WINDOW_SUBCODES",
    "RETRYABLE_CODES",
    "WHATSAPP_WINDOW_CODES",
    "Accepted",
    "GraphRequest",
    "HeaderFile",
    "SendError",
    "graph_url",
    "is_retryable",
    "messaging_file",
    "messaging_text",
    "network_error",
    "read_send_response",
    "whatsapp_file",
    "whatsapp_template",
    "whatsapp_text",
]

#: Graph error codes worth retrying: temporary failures and rate limits (app, page,
#: WhatsApp Business account, throughput, per-recipient pair and spam limits).
RETRYABLE_CODES = frozenset(
    {1, 2, 4, 17, 32, 613, 1200, 80007, 130429, 131000, 131016, 131048, 131056}
)
#: WhatsApp's "re-engagement" refusal: more than 24 hours since the customer wrote.
WHATSAPP_WINDOW_CODES = frozenset({131047, 470})
#: Messenger's and Instagram's "sent outside of allowed window" (code 10).
MESSAGING_WINDOW_SUBCODES = frozenset({2018278, 2534022})


@dataclass(frozen=True, slots=True)
class GraphRequest:
    """One Graph API call: POST ``body`` as JSON to ``url`` with the bearer token."""

    url: str
    body: Mapping[str, Any]
    token: str = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True, slots=True)
class Accepted:
    """Meta took the message: ``message_id`` (wamid or mid) names it in webhooks; empty
    when the answer could not be read, which still means the message was taken."""

    message_id: str


@dataclass(frozen=True, slots=True)
class SendError:
    """Meta refused the message, or never answered (``http_status`` is ``None``)."""

    http_status: int | None
    code: int | None
    message: str
    subcode: int | None = None
    details: str | None = None
    fbtrace_id: str | None = None
    retryable: bool = False
    outside_window: bool = False

    def describe(self) -> str:
        """What the agent reads: Meta's code, message and details."""
        code = "" if self.code is None else f" {self.code}"
        if self.subcode is not None:
            code += f"/{self.subcode}"
        status = f" (HTTP {self.http_status})" if self.http_status is not None else ""
        details = f": {self.details}" if self.details and self.details != self.message else ""
        text = f"Meta error{code}: {self.message}{details}{status}"
        if not self.outside_window:
            return text
        if self.code in WHATSAPP_WINDOW_CODES:
            hint = "only an approved template may be sent"
        else:
            hint = "the customer must write again before an answer can be sent"
        return f"outside the 24-hour customer-care window: {hint}. {text}"


def graph_url(graph_base: str, graph_version: str, node: str) -> str:
    """``{graph_base}/v{version}/{node}/messages``; the version may omit its ``v``."""
    version = graph_version.strip().strip("/")
    if not version.startswith("v"):
        version = f"v{version}"
    return f"{graph_base.rstrip('/')}/{version}/{node}/messages"


def whatsapp_text(
    *,
    graph_base: str,
    graph_version: str,
    token: str,
    phone_number_id: str,
    to: str,
    text: str,
) -> GraphRequest:
    """A free-form text message from our number ``phone_number_id`` to ``to``."""
    body = {
        **_whatsapp_envelope(to),
        "type": "text",
        "text": {"preview_url": False, "body": text},
    }
    return GraphRequest(graph_url(graph_base, graph_version, phone_number_id), body, token)


@dataclass(frozen=True, slots=True)
class HeaderFile:
    """The file a template shows as its media header, downloaded by Meta from ``link``."""

    link: str
    content_type: str
    filename: str


def whatsapp_template(
    *,
    graph_base: str,
    graph_version: str,
    token: str,
    phone_number_id: str,
    to: str,
    name: str,
    language: str,
    parameters: Sequence[str] = (),
    header: HeaderFile | None = None,
) -> GraphRequest:
    """An approved template ``name`` in ``language`` (``fr``, ``en_US``), its body's
    placeholders filled with ``parameters`` in order, and its media header (image, video
    or document, by content type) with the file at ``header``."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    components: list[dict[str, Any]] = []
    if header is not None:
        kind = whatsapp_file_type(header.content_type)
        media: dict[str, str] = {"link": header.link}
        if kind == "document":
            media["filename"] = header.filename
        components.append({"type": "header", "parameters": [{"type": kind, kind: media}]})
    if parameters:
        values = [{"type": "text", "text": value} for value in parameters]
        components.append({"type": "body", "parameters": values})
    if components:
        template["components"] = components
    body = {**_whatsapp_envelope(to), "type": "template", "template": template}
    return GraphRequest(graph_url(graph_base, graph_version, phone_number_id), body, token)


_WHATSAPP_TYPES = {
    "image/jpeg": "image",
    "image/png": "image",
    "video/mp4": "video",
    "video/3gpp": "video",
    "audio/aac": "audio",
    "audio/amr": "audio",
    "audio/mpeg": "audio",
    "audio/mp4": "audio",
    "audio/ogg": "audio",
}
_MESSAGING_TYPES = {"image": "image", "video": "video", "audio": "audio"}


def whatsapp_file_type(content_type: str) -> str:
    """``image``, ``video``, ``audio`` or ``document``: how WhatsApp shows the file."""
    return _WHATSAPP_TYPES.get(content_type.split(";", 1)[0].strip().lower(), "document")


def whatsapp_file(
    *,
    graph_base: str,
    graph_version: str,
    token: str,
    phone_number_id: str,
    to: str,
    link: str,
    content_type: str,
    filename: str,
    caption: str = "",
) -> GraphRequest:
    """A file Meta downloads from ``link``, with ``caption`` below it (not for audio)."""
    kind = whatsapp_file_type(content_type)
    media: dict[str, str] = {"link": link}
    if caption and kind != "audio":
        media["caption"] = caption
    if kind == "document":
        media["filename"] = filename
    body = {**_whatsapp_envelope(to), "type": kind, kind: media}
    return GraphRequest(graph_url(graph_base, graph_version, phone_number_id), body, token)


def messaging_file(
    *,
    graph_base: str,
    graph_version: str,
    token: str,
    account_id: str,
    recipient: str,
    link: str,
    content_type: str,
    tag: str | None = None,
) -> GraphRequest:
    """A Messenger or Instagram answer that is one file, downloaded from ``link``."""
    kind = _MESSAGING_TYPES.get(content_type.split("/", 1)[0].strip().lower(), "file")
    body = {
        "recipient": {"id": recipient},
        **_messaging_type(tag),
        "message": {"attachment": {"type": kind, "payload": {"url": link, "is_reusable": False}}},
    }
    return GraphRequest(graph_url(graph_base, graph_version, account_id), body, token)


def _messaging_type(tag: str | None) -> dict[str, str]:
    """A response inside the window, or a tagged message (``HUMAN_AGENT``) after it."""
    if tag:
        return {"messaging_type": "MESSAGE_TAG", "tag": tag}
    return {"messaging_type": "RESPONSE"}


def messaging_text(
    *,
    graph_base: str,
    graph_version: str,
    token: str,
    account_id: str,
    recipient: str,
    text: str,
    tag: str | None = None,
) -> GraphRequest:
    """A Messenger (page ``account_id``) or Instagram (account ``account_id``) answer to
    the user ``recipient``: inside the customer-care window, or tagged (``tag``)."""
    body = {
        "recipient": {"id": recipient},
        **_messaging_type(tag),
        "message": {"text": text},
    }
    return GraphRequest(graph_url(graph_base, graph_version, account_id), body, token)


def read_send_response(http_status: int, body: bytes) -> Accepted | SendError:
    """What Meta's answer to a ``GraphRequest`` means."""
    data = _json_object(body)
    if 200 <= http_status < 300:
        # A 2xx took the message even when its body cannot be read: never resend it.
        return Accepted(message_id=_message_id(data))
    return _error(http_status, data.get("error"))


def network_error(detail: str) -> SendError:
    """No answer came (connection refused, timeout…): worth retrying."""
    return SendError(None, None, detail or "no answer", retryable=True)


def is_retryable(http_status: int | None, code: int | None, *, transient: bool = False) -> bool:
    """Whether the same request may succeed later (see the module docstring)."""
    if http_status is None or transient or code in RETRYABLE_CODES:
        return True
    return http_status == 429 or http_status >= 500


def _whatsapp_envelope(customer: str) -> dict[str, str]:
    value = customer.strip()
    digits = value.removeprefix("+")
    address = {"to": digits} if digits.isascii() and digits.isdigit() else {"recipient": value}
    return {"messaging_product": "whatsapp", "recipient_type": "individual", **address}


def _message_id(data: Mapping[str, Any]) -> str:
    messages = data.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return _text(messages[0], "id") or ""
    return _text(data, "message_id") or ""


def _error(http_status: int, raw: Any) -> SendError:
    error: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    code = _int(error, "code")
    subcode = _int(error, "error_subcode")
    data = error.get("error_data")
    details = _text(data, "details") if isinstance(data, dict) else None
    return SendError(
        http_status=http_status,
        code=code,
        message=_text(error, "message") or f"HTTP {http_status}",
        subcode=subcode,
        details=details or (data if isinstance(data, str) and data else None),
        fbtrace_id=_text(error, "fbtrace_id"),
        retryable=is_retryable(http_status, code, transient=error.get("is_transient") is True),
        outside_window=code in WHATSAPP_WINDOW_CODES
        or (code == 10 and subcode in MESSAGING_WINDOW_SUBCODES),
    )


def _json_object(body: bytes) -> Mapping[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None
