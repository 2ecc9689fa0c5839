"""E-mail out: our answers as ``EmailMessage`` values, ready for any SMTP client.

Rules:
- pure: the caller passes what would otherwise be hidden state (the date, the unique
  part of the new Message-ID), so the same arguments always build the same message,
  MIME boundaries included (they derive from the Message-ID);
- the subject is the customer's with one "Re: " in front (their "RE :", "AW:", "Re[2]:"
  prefixes dropped) and the conversation's ticket token ``[#id]`` at the end, so replies
  thread even when a client drops In-Reply-To and References; the first e-mail of a
  conversation that came another way has no "Re: ";
- In-Reply-To is the customer's last Message-ID; References are their References plus
  that id, at most ``MAX_REFERENCES`` of them: the first (the thread root) and the latest,
  as RFC 5322 (3.6.4) and RFC 5537 (3.4.4) suggest for long threads; ids that are no
  Message-ID (the ``sha256:`` ids made up for messages without one) are left out;
- the text body is always there, an HTML alternative when given; attachments with a
  ``content_id`` are related to the HTML (inline images), the others attached;
- automatic messages (the acknowledgement) carry ``Auto-Submitted: auto-replied`` (RFC
  3834) and ``X-Auto-Response-Suppress: All``, so that other robots do not answer them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from opencx.core.errors import InvalidInput
from opencx.providers.email._tokens import (
    find_ticket_token,
    remove_ticket_tokens,
    ticket_token,
)

__all__ = [
    "ACKNOWLEDGEMENT_TEXTS",
    "MAX_REFERENCES",
    "Mailbox",
    "OutboundAttachment",
    "acknowledgement_text",
    "compose_acknowledgement",
    "compose_reply",
    "find_ticket_token",
    "reply_subject",
    "ticket_token",
]

MAX_REFERENCES = 10
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|réf|rép|ref|rif)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_ID_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_MESSAGE_ID = re.compile(r"^[^<>\s@]+@[^<>\s@]+$")  # "sha256:…" ids made up on receipt fail

#: The acknowledgement, per locale (``en`` is the fallback); ``{delay}`` is a duration
#: from ``hours_one``/``hours_other``. Kept together so that they can move to gettext.
ACKNOWLEDGEMENT_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "subject": "We have received your message",
        "body": (
            "Hello,\n\n"
            "Thank you for your message: we have received it and will answer within "
            "{delay}.\n\n"
            "Your request's reference is {token}. If you write to us again about it, "
            "please reply to this e-mail or keep the reference in the subject.\n\n"
            "{signature}\n\n"
            "This is an automatic message."
        ),
        "hours_one": "{count} hour",
        "hours_other": "{count} hours",
    },
    "fr": {
        "subject": "Nous avons bien reçu votre message",
        "body": (
            "Bonjour,\n\n"
            "Merci pour votre message : nous l'avons bien reçu et vous répondrons sous "
            "{delay}.\n\n"
            "La référence de votre demande est {token}. Si vous nous écrivez de nouveau "
            "à ce sujet, merci de répondre à ce courriel ou de garder la référence dans "
            "l'objet.\n\n"
            "{signature}\n\n"
            "Ceci est un message automatique."
        ),
        "hours_one": "{count} heure",
        "hours_other": "{count} heures",
    },
}


@dataclass(frozen=True, slots=True)
class Mailbox:
    """One of our mailboxes: the From of what we send, and the domain of its ids."""

    address: str
    display_name: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()


@dataclass(frozen=True, slots=True)
class OutboundAttachment:
    """A file to send; with a ``content_id`` it is an image the HTML body shows."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None


def compose_reply(
    mailbox: Mailbox,
    *,
    to: str,
    subject: str | None,
    conversation_id: int,
    message_id_part: str,
    sent_at: datetime,
    text: str,
    html: str | None = None,
    cc: Sequence[str] = (),
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    attachments: Sequence[OutboundAttachment] = (),
    automatic: bool = False,
    answering: bool = True,
) -> EmailMessage:
    """Our answer in a conversation (see the module rules); ``answering=False``: the
    first e-mail of a conversation that came another way, its subject without "Re: ".

    ``subject``, ``in_reply_to`` and ``references`` are those of the customer's last
    message (ids without brackets, as ``parse_email`` gives them); ``message_id_part``
    is unique per message (a uuid, a row id): the Message-ID is ``<part@domain>``.
    """
    message = EmailMessage()
    _set_header(message, "From", Address(mailbox.display_name, addr_spec=mailbox.address))
    _set_header(message, "To", to)
    if not message["To"].addresses:
        raise InvalidInput("a reply needs a recipient", field="to")
    if cc:
        _set_header(message, "Cc", ", ".join(cc))
    message["Subject"] = (
        reply_subject(subject, conversation_id=conversation_id)
        if answering
        else first_subject(subject, conversation_id=conversation_id)
    )
    message["Date"] = format_datetime(_aware(sent_at))
    message_id = f"{_id_part(message_id_part)}@{mailbox.domain}"
    message["Message-ID"] = f"<{message_id}>"
    _thread(message, in_reply_to=in_reply_to, references=references)
    if automatic:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    _set_body(message, text=text, html=html, attachments=attachments)
    _set_boundaries(message, message_id=message_id)
    return message


def compose_acknowledgement(
    mailbox: Mailbox,
    *,
    to: str,
    subject: str | None,
    conversation_id: int,
    message_id_part: str,
    sent_at: datetime,
    hours: int,
    locale: str = "en",
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
) -> EmailMessage:
    """The automatic acknowledgement: received, answered within ``hours``, reference."""
    body = acknowledgement_text(
        mailbox, conversation_id=conversation_id, hours=hours, locale=locale
    )
    return compose_reply(
        mailbox,
        to=to,
        subject=subject or _acknowledgement_texts(locale)["subject"],
        conversation_id=conversation_id,
        message_id_part=message_id_part,
        sent_at=sent_at,
        text=body,
        in_reply_to=in_reply_to,
        references=references,
        automatic=True,
    )


def acknowledgement_text(
    mailbox: Mailbox, *, conversation_id: int, hours: int, locale: str = "en"
) -> str:
    """The words of the automatic acknowledgement, in ``locale`` (else English)."""
    if hours < 1:
        raise InvalidInput("the promised delay is at least one hour", field="hours")
    texts = _acknowledgement_texts(locale)
    delay = texts["hours_one" if hours == 1 else "hours_other"].format(count=hours)
    return texts["body"].format(
        delay=delay,
        token=ticket_token(conversation_id),
        signature=mailbox.display_name or mailbox.address,
    )


def _acknowledgement_texts(locale: str) -> dict[str, str]:
    texts = ACKNOWLEDGEMENT_TEXTS.get(locale.replace("-", "_").split("_")[0].lower())
    return dict(texts or ACKNOWLEDGEMENT_TEXTS["en"])


def first_subject(subject: str | None, *, conversation_id: int) -> str:
    """``<subject> [#id]``: the conversation's words and our token once, no "Re: "."""
    return reply_subject(subject, conversation_id=conversation_id).removeprefix("Re: ")


def reply_subject(subject: str | None, *, conversation_id: int) -> str:
    """``Re: <subject> [#id]``: one "Re: ", the customer's words, our token once."""
    base = _REPLY_PREFIX.sub("", remove_ticket_tokens(subject or ""))
    base = " ".join(base.split())
    token = ticket_token(conversation_id)
    return f"Re: {base} {token}" if base else f"Re: {token}"


def _thread(message: EmailMessage, *, in_reply_to: str | None, references: Sequence[str]) -> None:
    parent = in_reply_to if in_reply_to and _MESSAGE_ID.match(in_reply_to) else None
    chain = [ref for ref in references if _MESSAGE_ID.match(ref) and ref != parent]
    if parent:
        message["In-Reply-To"] = f"<{parent}>"
        chain.append(parent)
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    if chain:
        message["References"] = " ".join(f"<{ref}>" for ref in chain)


def _set_body(
    message: EmailMessage,
    *,
    text: str,
    html: str | None,
    attachments: Sequence[OutboundAttachment],
) -> None:
    message.set_content(text, cte="quoted-printable")
    related = [a for a in attachments if a.content_id] if html is not None else []
    if html is not None:
        html_part = _part(html, subtype="html")
        if related:
            html_part.make_related()
        for attachment in related:
            html_part.attach(_file_part(attachment, disposition="inline"))
        message.make_alternative()
        message.attach(html_part)
    files = [a for a in attachments if a not in related]
    if files:
        message.make_mixed()
    for attachment in files:
        message.attach(_file_part(attachment, disposition="attachment"))


def _part(text: str, *, subtype: str) -> EmailMessage:
    part = EmailMessage()
    part.set_content(text, subtype=subtype, cte="quoted-printable")
    del part["MIME-Version"]  # set_content adds it; it belongs to the top level only
    return part


def _file_part(attachment: OutboundAttachment, *, disposition: str) -> EmailMessage:
    part = EmailMessage()
    maintype, subtype = _split_type(attachment.content_type)
    cid = f"<{attachment.content_id}>" if attachment.content_id else None
    part.set_content(
        attachment.data,
        maintype,
        subtype,
        disposition=disposition,
        filename=attachment.filename,
        cid=cid,
    )
    del part["MIME-Version"]
    return part


def _set_boundaries(message: EmailMessage, *, message_id: str) -> None:
    """Boundaries drawn from the Message-ID, not at random: the same arguments give the
    same bytes. ``=_`` cannot occur in base64 or quoted-printable content."""
    seed = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    containers = (part for part in message.walk() if part.is_multipart())
    for index, part in enumerate(containers):
        part.set_boundary(f"=_{seed}.{index}")


def _split_type(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = content_type.strip().lower().partition("/")
    if not maintype or not subtype or maintype in ("multipart", "message"):
        return "application", "octet-stream"  # bytes cannot be sent as a MIME container
    return maintype, subtype


def _set_header(message: EmailMessage, name: str, value: str | Address) -> None:
    try:
        message[name] = value
    except (ValueError, TypeError) as error:  # HeaderParseError is a ValueError
        raise InvalidInput(f"invalid {name} address: {error}", field=name.lower()) from None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("the date of a message must be timezone-aware", field="sent_at")
    return moment


def _id_part(value: str) -> str:
    if not _ID_PART.match(value):
        raise InvalidInput("the Message-ID part must be printable ASCII without @, <, >")
    return value
