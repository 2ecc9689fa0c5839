"""What we send: threaded, tokenised answers and the automatic acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any

import pytest

from opencx.core.errors import InvalidInput
from opencx.providers.email import (
    ACKNOWLEDGEMENT_TEXTS,
    MAX_REFERENCES,
    Mailbox,
    OutboundAttachment,
    compose_acknowledgement,
    compose_reply,
    find_ticket_token,
    parse_email,
    reply_subject,
    ticket_token,
)

from .corpus import parse

SUPPORT = Mailbox("support@shop.example.com", "Service client Boutique")
NOW = datetime(2024, 6, 3, 12, 30, tzinfo=UTC)


def reply(**overrides: Any) -> EmailMessage:
    arguments: dict[str, Any] = {
        "to": "Jane Doe <jane.doe@gmail.com>",
        "subject": "Order 1234 arrived damaged",
        "conversation_id": 42,
        "message_id_part": "20240603123000.abc123",
        "sent_at": NOW,
        "text": "Hello Jane,\n\nA new mug is on its way.\n\nShop Support",
    }
    return compose_reply(SUPPORT, **(arguments | overrides))


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Order 1234", "Re: Order 1234 [#42]"),
        ("Re: Order 1234", "Re: Order 1234 [#42]"),
        ("RE: Re: re:Order 1234", "Re: Order 1234 [#42]"),
        ("RE : Commande n°1234", "Re: Commande n°1234 [#42]"),
        ("AW: SV: Réf : Order", "Re: Order [#42]"),
        ("Re[2]: Order", "Re: Order [#42]"),
        ("Re: Order 1234 [#42]", "Re: Order 1234 [#42]"),
        ("Re: [#42] Order 1234", "Re: Order 1234 [#42]"),
        ("Re: Order [#7]", "Re: Order [#42]"),  # another conversation's token is replaced
        ("Fwd: Order", "Re: Fwd: Order [#42]"),
        ("Order\n  1234", "Re: Order 1234 [#42]"),
        ("Regarding my order", "Re: Regarding my order [#42]"),
        ("", "Re: [#42]"),
        (None, "Re: [#42]"),
    ],
)
def test_reply_subject_has_one_re_and_our_token(subject: str | None, expected: str) -> None:
    assert reply_subject(subject, conversation_id=42) == expected


def test_token_names_the_conversation() -> None:
    assert ticket_token(123) == "[#123]"
    assert find_ticket_token("Re: Where is my parcel? [#123]") == 123
    assert find_ticket_token("[#0] [#99999999999] [#12]") == 12  # only real row ids count
    assert find_ticket_token("Order #123") is None
    assert find_ticket_token(None) is None
    with pytest.raises(InvalidInput):
        ticket_token(0)


def test_reply_headers() -> None:
    message = reply(cc=["compta@entreprise.fr"])

    assert message["From"] == "Service client Boutique <support@shop.example.com>"
    assert message["To"] == "Jane Doe <jane.doe@gmail.com>"
    assert message["Cc"] == "compta@entreprise.fr"
    assert message["Subject"] == "Re: Order 1234 arrived damaged [#42]"
    assert message["Date"] == "Mon, 03 Jun 2024 12:30:00 +0000"
    assert message["Message-ID"] == "<20240603123000.abc123@shop.example.com>"
    assert message["Auto-Submitted"] is None
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Hello Jane,\n\nA new mug is on its way.\n\nShop Support\n"


def test_the_date_keeps_the_callers_offset() -> None:
    paris = timezone(timedelta(hours=2))

    assert reply(sent_at=NOW.astimezone(paris))["Date"] == "Mon, 03 Jun 2024 14:30:00 +0200"


def test_reply_threads_under_the_customers_last_message() -> None:
    message = reply(references=["a@x", "b@x"], in_reply_to="c@x")

    assert message["In-Reply-To"] == "<c@x>"
    assert message["References"] == "<a@x> <b@x> <c@x>"


def test_made_up_ids_are_not_threaded() -> None:
    message = reply(references=["sha256:abcd", "a@x", "<b@x>", "c @x"], in_reply_to="sha256:ef01")

    assert message["In-Reply-To"] is None
    assert message["References"] == "<a@x>"


def test_long_reference_chains_keep_the_root_and_the_latest() -> None:
    chain = [f"m{index}@x" for index in range(30)]
    message = reply(references=chain[:-1], in_reply_to=chain[-1])

    kept = str(message["References"]).split()
    assert len(kept) == MAX_REFERENCES
    assert kept[0] == "<m0@x>"
    assert kept[1:] == [f"<m{index}@x>" for index in range(21, 30)]


def test_html_alternative_inline_image_and_attachment() -> None:
    logo = OutboundAttachment("logo.png", "image/png", b"\x89PNG", content_id="logo@shop")
    invoice = OutboundAttachment("Facture n°1234.pdf", "application/pdf", b"%PDF-1.4")
    message = reply(html='<p>Hello</p><img src="cid:logo@shop">', attachments=[logo, invoice])

    tree = [part.get_content_type() for part in message.walk()]
    assert tree == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/pdf",
    ]
    parsed = parse_email(message.as_bytes())
    assert [(a.filename, a.content_id, a.inline) for a in parsed.attachments] == [
        ("logo.png", "logo@shop", True),
        ("Facture n°1234.pdf", None, False),
    ]
    assert parsed.html is not None
    assert "<p>Hello</p>" in parsed.html


def test_the_same_arguments_give_the_same_bytes() -> None:
    files = [OutboundAttachment("a.txt", "text/plain", b"a")]

    assert reply(html="<p>x</p>", attachments=files).as_bytes() == (
        reply(html="<p>x</p>", attachments=files).as_bytes()
    )


def test_automatic_messages_say_so() -> None:
    message = reply(automatic=True)

    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"


@pytest.mark.parametrize(
    "overrides",
    [
        {"sent_at": datetime(2024, 6, 3, 12, 30)},  # naive
        {"message_id_part": "a@b"},
        {"message_id_part": ""},
        {"message_id_part": "with space"},
        {"conversation_id": -1},
        {"to": "jane@example.com\nBcc: everyone@example.com"},
        {"to": ""},
        {"to": "undisclosed-recipients:;"},
    ],
)
def test_invalid_arguments_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        reply(**overrides)


def acknowledgement(**overrides: Any) -> EmailMessage:
    arguments: dict[str, Any] = {
        "to": "renee.dupre@entreprise.fr",
        "subject": "Commande n°1234",
        "conversation_id": 42,
        "message_id_part": "ack-42",
        "sent_at": NOW,
        "hours": 24,
        "in_reply_to": "PR3P192MB0780@example.com",
    }
    return compose_acknowledgement(SUPPORT, **(arguments | overrides))


@pytest.mark.parametrize(
    ("locale", "hours", "promise"),
    [
        ("en", 24, "we have received it and will answer within 24 hours."),
        ("en", 1, "will answer within 1 hour."),
        ("fr", 48, "nous l'avons bien reçu et vous répondrons sous 48 heures."),
        ("fr_CA", 1, "vous répondrons sous 1 heure."),
        ("fr-FR", 4, "sous 4 heures."),
        ("de", 24, "will answer within 24 hours."),  # not translated yet: English
    ],
)
def test_acknowledgement_states_the_promised_delay(locale: str, hours: int, promise: str) -> None:
    message = acknowledgement(locale=locale, hours=hours)
    text = message.get_content()

    assert promise in text
    assert "[#42]" in text
    assert "Service client Boutique" in text
    assert message["Subject"] == "Re: Commande n°1234 [#42]"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<PR3P192MB0780@example.com>"


def test_acknowledgement_without_a_subject_has_one() -> None:
    assert acknowledgement(subject=None, locale="fr")["Subject"] == (
        "Re: Nous avons bien reçu votre message [#42]"
    )


def test_acknowledgement_needs_a_delay() -> None:
    with pytest.raises(InvalidInput):
        acknowledgement(hours=0)


def test_every_locale_has_every_text() -> None:
    keys = {frozenset(texts) for texts in ACKNOWLEDGEMENT_TEXTS.values()}

    assert len(keys) == 1
    assert "en" in ACKNOWLEDGEMENT_TEXTS


def test_round_trip_reply_to_a_recorded_message_threads_back() -> None:
    customer = parse("gmail_alternative_inline_image.eml")
    outbound = compose_reply(
        SUPPORT,
        to=f"{customer.sender.display_name} <{customer.sender.value}>",
        subject=customer.subject,
        conversation_id=42,
        message_id_part="20240603123000.abc123",
        sent_at=NOW,
        text="Hello Jane,\n\nA new mug is on its way.",
        in_reply_to=customer.provider_message_id,
        references=customer.thread_refs,
    )
    # the customer answers us: their client quotes us, keeps the threading headers
    back = parse_email(outbound.as_bytes())

    assert back.thread_refs == (*customer.thread_refs, customer.provider_message_id)
    assert back.metadata["subject_token"] == 42
    assert back.subject == "Re: Order 1234 arrived damaged [#42]"
    assert back.text == "Hello Jane,\n\nA new mug is on its way."
    assert back.sender.value == "support@shop.example.com"
    assert back.flags == frozenset()


def test_round_trip_acknowledgement_is_recognised_as_automatic() -> None:
    back = parse_email(acknowledgement(locale="fr").as_bytes())

    assert back.flags == {"auto_submitted"}
    assert back.metadata["subject_token"] == 42
    assert back.thread_refs == ("PR3P192MB0780@example.com",)
