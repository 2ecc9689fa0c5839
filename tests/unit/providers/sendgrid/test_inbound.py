"""SendGrid Inbound Parse posts, read field by field from the recorded payloads: both
modes give the e-mail our SMTP server would have stored, charsets honoured."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from opencx.core.enums import Channel, IdentityKind
from opencx.providers.base import InboundAttachment, Sender, UnreadablePayload
from opencx.providers.email import parse_email
from opencx.providers.sendgrid import InboundParse, parse_inbound

from .recorded import RECORDED, Recorded, load

MAILBOX = "support@parse.example.com"


def parse(recorded: Recorded) -> InboundParse:
    return parse_inbound(recorded.body, content_type=recorded.content_type)


def form(*fields: tuple[str, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body of ``fields``, written out by hand."""
    parts = [
        b'--B0und\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (name.encode(), v)
        for name, v in fields
    ]
    return b"".join(parts) + b"--B0und--\r\n", "multipart/form-data; boundary=B0und"


def test_the_reference_example_in_parsed_mode_reads_its_iso_8859_1_text() -> None:
    recorded = load("sendgrid_inbound_parse")
    parsed = parse(recorded)
    message = parsed.message
    assert parsed.recipients == (MAILBOX,)
    assert parsed.raw is None  # parsed mode: there is no original message to keep
    assert message.channel is Channel.EMAIL
    assert message.provider == "sendgrid"
    assert message.provider_message_id == "5A3F2B1C.7080305@example.fr"
    assert message.sender == Sender(
        IdentityKind.EMAIL, "francois.leger@example.fr", "François Léger"
    )
    assert message.recipient == MAILBOX
    assert message.subject == "Facture erronée - commande n°48213"
    assert message.sent_at == datetime(2025, 11, 4, 14, 39, 55, tzinfo=UTC)
    # 'charsets' says the text is iso-8859-1: read as UTF-8 it would be mangled.
    assert message.text == (
        "Bonjour,\nLa facture jointe est erronée : le montant TTC ne correspond pas.\n"
        "Merci de corriger.\nFrançois"
    )
    assert message.attachments == (
        InboundAttachment(
            filename="facture_48213.pdf",
            content_type="application/pdf",
            data=recorded.part("attachment1"),
        ),
    )
    assert message.flags == frozenset()


def test_raw_mode_reads_the_message_as_our_smtp_server_does_and_keeps_it() -> None:
    recorded = load("sendgrid_raw_mime")
    parsed = parse(recorded)
    original = recorded.part("email")
    assert parsed.raw == original
    assert parsed.message == replace(parse_email(original), provider="sendgrid", recipient=MAILBOX)
    message = parsed.message
    assert message.text == "Still nothing — here is the photo of the label."
    assert message.thread_refs == ("first0001@mail.example.com", "opencx.7@parse.example.com")
    assert message.metadata["subject_token"] == 12
    assert [a.filename for a in message.attachments] == ["label.png"]


def test_parsed_mode_with_an_inline_image_and_a_named_attachment() -> None:
    recorded = load("sendgrid_parsed_attachments")
    message = parse(recorded).message
    assert message.sender == Sender(IdentityKind.EMAIL, "zoe.martin@example.org", "Zoé Martin")
    assert message.subject == "Reçu et capture d’écran"
    assert message.text == "Voici le reçu et une capture d’écran :\n[image: capture.png]"
    assert message.html is not None
    assert 'src="cid:ii_mh7x2k0p0"' in message.html
    assert message.metadata["cc"] == ("billing@parse.example.com",)
    assert message.attachments == (
        InboundAttachment(
            filename="capture.png",
            content_type="image/png",
            data=recorded.part("attachment1"),
            content_id="ii_mh7x2k0p0",
            inline=True,
        ),
        InboundAttachment(
            filename="reçu 2025-11.pdf",
            content_type="application/pdf",
            data=recorded.part("attachment2"),
        ),
    )


def test_an_iso_8859_1_html_only_message_without_message_id() -> None:
    recorded = load("sendgrid_parsed_latin1_html")
    message = parse(recorded).message
    assert message.sender == Sender(IdentityKind.EMAIL, "renee.dupre@example.fr", "Renée Dupré")
    assert message.subject == "Résiliation à compter du 1er décembre"
    assert message.html is not None
    assert "résilier" in message.html
    # Labelled iso-8859-1 by the client, written in windows-1252: the euro sign survives.
    assert "12,50 €" in message.text
    assert message.text.startswith("Bonjour,\n\nJe souhaite résilier")
    # No Message-ID: the id is derived from the content, the same for a repeated post.
    assert message.provider_message_id.startswith("sha256:")
    assert parse(recorded).message.provider_message_id == message.provider_message_id


def test_each_body_is_read_in_the_charset_that_charsets_names() -> None:
    text = "Здравствуйте, где мой заказ?"
    html = "<p>Grüße aus Köln</p>"
    body, content_type = form(
        ("headers", b"From: ivan@example.com\r\n"),
        ("text", text.encode("windows-1251")),
        ("html", html.encode("iso-8859-15")),
        ("charsets", b'{"text":"windows-1251","html":"iso-8859-15"}'),
    )
    message = parse_inbound(body, content_type=content_type).message
    assert message.text == text
    assert message.html == html


@pytest.mark.parametrize("name", RECORDED)
def test_no_recorded_post_loses_a_character(name: str) -> None:
    message = parse(load(name)).message
    for text in (message.text, message.html or "", message.subject or ""):
        assert "\ufffd" not in text
    assert message.sender.value
    assert message.recipient == MAILBOX


def test_the_envelope_names_the_mailbox_and_answers_for_a_missing_from() -> None:
    body, content_type = form(
        ("headers", b"To: someone@elsewhere.example\r\nSubject: no sender\r\n"),
        ("text", b"Hello?"),
        (
            "envelope",
            b'{"to":["Sales@Parse.Example.com","support@parse.example.com"],'
            b'"from":"Grace@Example.com"}',
        ),
    )
    parsed = parse_inbound(body, content_type=content_type)
    assert parsed.recipients == ("sales@parse.example.com", MAILBOX)
    assert parsed.message.recipient == "sales@parse.example.com"
    assert parsed.message.sender == Sender(IdentityKind.EMAIL, "grace@example.com")


def test_without_an_envelope_the_to_header_stands_in() -> None:
    body, content_type = form(
        ("headers", b"From: ada@example.com\r\nTo: Support <Support@Parse.Example.com>\r\n"),
        ("envelope", b"not json"),
    )
    parsed = parse_inbound(body, content_type=content_type)
    assert parsed.recipients == (MAILBOX,)
    assert parsed.message.text == ""


def test_values_from_the_form_cannot_write_headers() -> None:
    body, content_type = form(
        ("headers", b"From: ada@example.com\r\n"),
        (
            "attachment-info",
            b'{"attachment1":{"filename":"a\\r\\nX-Evil: 1.txt",'
            b'"type":"text/plain\\r\\nX-Evil: 1","content-id":"x>\\r\\nX-Evil: 1"}}',
        ),
        ("attachment1", b"data"),
    )
    message = parse_inbound(body, content_type=content_type).message
    [attachment] = message.attachments
    assert attachment.content_type == "application/octet-stream"
    assert attachment.content_id is None
    assert attachment.data == b"data"
    assert "X-Evil" not in str(message.metadata)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"email": "x"}', "application/json"),
        (b"email=x", "application/x-www-form-urlencoded"),
        (
            b'--B0und\r\nContent-Disposition: form-data; name="text"\r\n\r\ncut',
            "multipart/form-data; boundary=B0und",
        ),
        (form(("text", b"no headers, no email"))[0], "multipart/form-data; boundary=B0und"),
        (form(("email", b""))[0], "multipart/form-data; boundary=B0und"),
    ],
    ids=["json", "urlencoded", "cut-short", "neither-mode", "empty-email"],
)
def test_what_sendgrid_would_not_post_is_unreadable(body: bytes, content_type: str) -> None:
    with pytest.raises(UnreadablePayload):
        parse_inbound(body, content_type=content_type)
