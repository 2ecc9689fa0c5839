"""Rules of ``parse_email`` shown on small messages: flags, dates, threads, files, charsets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opencx.providers.base import UnreadablePayload
from opencx.providers.email import parse_email


def mail(
    headers: str = "", body: str = "Hello", *, sender: str = "Jane <jane@example.com>"
) -> bytes:
    head = f"From: {sender}\nTo: support@shop.example.com\nSubject: Hi\n{headers}"
    return f"{head.rstrip()}\n\n{body}".encode()


def test_an_empty_payload_is_refused() -> None:
    with pytest.raises(UnreadablePayload):
        parse_email(b"")


def test_bytes_that_are_no_e_mail_are_kept_flagged_unparsed() -> None:
    message = parse_email(b"\x00\xff\x13 this is not an e-mail")

    assert "unparsed" in message.flags
    assert message.sender.value == ""
    assert message.provider_message_id.startswith("sha256:")
    assert "this is not an e-mail" in message.text


def test_recipient_is_our_mailbox_lower_cased() -> None:
    assert parse_email(mail(), recipient=" Support@Shop.Example.COM ").recipient == (
        "support@shop.example.com"
    )
    assert parse_email(mail()).recipient is None


@pytest.mark.parametrize(
    ("headers", "flags"),
    [
        ("", set()),
        ("Auto-Submitted: no", set()),
        ("Auto-Submitted: auto-replied", {"auto_submitted"}),
        ("Auto-Submitted: auto-generated; owner-email=a@b.c", {"auto_submitted"}),
        ("X-Autoreply: yes", {"auto_submitted"}),
        ("X-Autorespond: Out of office", {"auto_submitted"}),
        ("Precedence: auto_reply", {"auto_submitted"}),
        ("Precedence: bulk", {"auto_submitted", "bulk"}),
        ("Precedence: junk", {"auto_submitted", "bulk"}),
        ("Precedence: list", {"auto_submitted", "bulk"}),
        ("List-Id: Users <users.lists.example.org>", {"auto_submitted", "bulk"}),
        ("List-Unsubscribe: <mailto:leave@lists.example.org>", {"auto_submitted", "bulk"}),
        ("Return-Path: <>", {"auto_submitted", "bounce"}),
        ("Return-Path: <MAILER-DAEMON@mx.example.org>", {"auto_submitted", "bounce"}),
        ("Return-Path: <>\nAuto-Submitted: auto-replied", {"auto_submitted"}),
    ],
)
def test_automatic_messages_are_flagged(headers: str, flags: set[str]) -> None:
    assert parse_email(mail(headers)).flags == flags


def test_mail_from_mailer_daemon_is_a_bounce() -> None:
    message = parse_email(mail(sender="Mail Delivery Subsystem <mailer-daemon@googlemail.com>"))

    assert message.flags == {"auto_submitted", "bounce"}


def test_a_read_receipt_is_automatic_but_no_bounce() -> None:
    body = "--b\nContent-Type: text/plain\n\nDisplayed.\n--b--\n"
    headers = 'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"'

    assert parse_email(mail(headers, body)).flags == {"auto_submitted"}


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Mon, 3 Jun 2024 10:20:29 +0200", datetime(2024, 6, 3, 8, 20, 29, tzinfo=UTC)),
        ("3 Jun 2024 10:20 -0000", datetime(2024, 6, 3, 10, 20, tzinfo=UTC)),
        ("Mon,  3 Jun 2024 10:31:07 +0200 (CEST)", datetime(2024, 6, 3, 8, 31, 7, tzinfo=UTC)),
        ("yesterday at noon", None),
        ("Mon, 99 Foo 2024 99:99:99 +9999", None),
        ("", None),
    ],
)
def test_date_is_utc_or_none(date: str, expected: datetime | None) -> None:
    assert parse_email(mail(f"Date: {date}")).sent_at == expected


def test_thread_refs_are_references_then_the_replied_to_message_last() -> None:
    headers = (
        "Message-ID: <own@example.com>\n"
        "References: <a@x> <b@x>\n <c@x> <b@x> <own@example.com>\n"
        "In-Reply-To: <b@x>"
    )
    message = parse_email(mail(headers))

    assert message.thread_refs == ("a@x", "c@x", "b@x")
    assert message.metadata["references"] == ("a@x", "b@x", "c@x", "own@example.com")
    assert message.metadata["in_reply_to"] == ("b@x",)


def test_ids_without_brackets_are_still_read() -> None:
    message = parse_email(mail("Message-ID: bare@example.com\nIn-Reply-To: parent@example.com"))

    assert message.provider_message_id == "bare@example.com"
    assert message.thread_refs == ("parent@example.com",)


def test_reply_to_and_addresses_are_kept_in_metadata() -> None:
    headers = (
        "Reply-To: Billing <Billing@Example.com>\n"
        "Cc: a@example.com, =?utf-8?q?B=C3=A9a?= <B@Example.com>"
    )
    message = parse_email(mail(headers))

    assert message.sender.value == "jane@example.com"
    assert message.metadata["reply_to"] == ("billing@example.com",)
    assert message.metadata["cc"] == ("a@example.com", "b@example.com")
    assert message.metadata["to"] == ("support@shop.example.com",)


def test_without_from_the_sender_field_names_the_sender() -> None:
    raw = b"Sender: Robot <robot@example.com>\nSubject: x\n\nbody"

    assert parse_email(raw).sender.value == "robot@example.com"


def test_without_any_sender_the_message_is_unparsed() -> None:
    message = parse_email(b"To: support@shop.example.com\nSubject: x\n\nbody")

    assert message.sender.value == ""
    assert "unparsed" in message.flags
    assert message.text == "body"


def multipart(*parts: str, subtype: str = "mixed") -> bytes:
    body = "".join(f"--b\n{part}\n" for part in parts) + "--b--\n"
    return mail(f'MIME-Version: 1.0\nContent-Type: multipart/{subtype}; boundary="b"', body)


def test_file_names_are_decoded_and_stripped_of_paths() -> None:
    message = parse_email(
        multipart(
            "Content-Type: text/plain\n\nSee attached.",
            'Content-Type: application/pdf; name="=?utf-8?Q?Re=C3=A7u_n=C2=B012.pdf?="\n'
            "Content-Transfer-Encoding: base64\n\nJVBERg==",
            "Content-Type: application/octet-stream\nContent-Disposition: attachment; "
            'filename="../../etc/passwd"\n\nroot',
            "Content-Type: application/octet-stream\nContent-Disposition: attachment; "
            'filename="C:\\\\Users\\\\jane\\\\run.bat"\n\necho',
            "Content-Type: application/pdf\nContent-Disposition: attachment\n\n%PDF",
        )
    )

    assert [a.filename for a in message.attachments] == [
        "Reçu n°12.pdf",
        "passwd",
        "run.bat",
        "attachment-4.pdf",
    ]
    assert message.text == "See attached."


def test_a_text_file_attached_is_no_body() -> None:
    message = parse_email(
        multipart(
            "Content-Type: text/plain\n\nThe log is attached.",
            'Content-Type: text/plain; name="log.txt"\nContent-Disposition: attachment\n\nERROR',
        )
    )

    assert message.text == "The log is attached."
    [log] = message.attachments
    assert (log.filename, log.content_type, log.data) == ("log.txt", "text/plain", b"ERROR")


def test_an_attachment_with_a_content_id_but_attachment_disposition_is_not_inline() -> None:
    message = parse_email(
        multipart(
            "Content-Type: text/plain\n\nPhoto attached.",
            "Content-Type: image/png\nContent-Disposition: attachment; filename=a.png\n"
            "Content-ID: <a@x>\n\nPNG",
        )
    )

    [image] = message.attachments
    assert (image.content_id, image.inline) == ("a@x", False)


def test_a_forwarded_message_is_an_attachment_not_the_body() -> None:
    forwarded = "Content-Type: message/rfc822\n\nFrom: x@example.com\nSubject: old\n\nOld text"
    message = parse_email(multipart("Content-Type: text/plain\n\nFYI, see below.", forwarded))

    assert message.text == "FYI, see below."
    [attached] = message.attachments
    assert attached.content_type == "message/rfc822"
    assert attached.data is not None
    assert b"Old text" in attached.data


def test_an_empty_plain_alternative_falls_back_to_the_html() -> None:
    message = parse_email(
        multipart(
            "Content-Type: text/plain\n\n ",
            "Content-Type: text/html\n\n<p>Only <b>here</b></p>",
            subtype="alternative",
        )
    )

    assert message.text == "Only here"


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        # iso-8859-1 is read as its superset windows-1252, as browsers do
        ('text/plain; charset="iso-8859-1"', b"Prix : 12 \x80 \x96 net", "Prix : 12 € – net"),
        # a utf-8 label on windows-1252 bytes
        ('text/plain; charset="utf-8"', b"d\xe9j\xe0 pay\xe9", "déjà payé"),
        # us-ascii label on utf-8 bytes
        ("text/plain; charset=us-ascii", "déjà payé".encode(), "déjà payé"),
        # a charset Python does not know
        ("text/plain; charset=x-user-defined-42", "déjà payé".encode(), "déjà payé"),
        # no charset on an HTML part: its <meta> tells
        (
            "text/html",
            b'<meta charset="windows-1252"><p>d\xe9j\xe0 pay\xe9</p>',
            "déjà payé",
        ),
        # a base64 "charset" is no text encoding
        ("text/plain; charset=base64", b"plain words", "plain words"),
    ],
)
def test_charsets_are_a_hint_and_never_an_error(
    content_type: str, body: bytes, expected: str
) -> None:
    head = mail(f"MIME-Version: 1.0\nContent-Type: {content_type}", "").rstrip(b"\n")
    message = parse_email(head + b"\n\n" + body)

    assert message.text == expected
    assert "unparsed" not in message.flags


def test_raw_8_bit_headers_in_a_legacy_charset_are_read() -> None:
    raw = (
        b"From: Ren\xe9e Dupr\xe9 <renee@example.fr>\n"
        b"Subject: Caf\xe9 cr\xe8me =?utf-8?q?=C3=A9t=C3=A9?=\n\nbody"
    )
    message = parse_email(raw)

    assert message.sender.display_name == "Renée Dupré"
    assert message.subject == "Café crème été"


def test_nul_characters_never_leave_the_adapter() -> None:
    message = parse_email(mail(body="a\x00b"))

    assert message.text == "ab"


def test_a_parser_bomb_is_cut_and_flagged() -> None:
    depth = 100
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth)
    )
    tail = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    message = parse_email(mail(f"MIME-Version: 1.0\n{head}Content-Type: text/plain\n\nDeep{tail}"))

    assert "unparsed" in message.flags
    assert "TooDeeplyNested" in message.metadata["defects"]
