"""The bounds of one message's parsing, and the envelope addresses no retry mends."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from opencx.providers.email import ParseLimits, envelope_address_problem, parse_email
from opencx.providers.email._limits import FEED_CHUNK, read_message
from opencx.providers.email.parsing import _POLICY


def with_parts(count: int) -> bytes:
    message = EmailMessage()
    message["From"] = "ada@example.com"
    message["Subject"] = "files"
    message.set_content("see attached")
    for n in range(count):
        message.add_attachment(f"file {n}".encode(), maintype="text", subtype="plain",
                               filename=f"f{n}.txt")  # fmt: skip
    return message.as_bytes()


def nested(depth: int) -> bytes:
    lines = [b"From: ada@example.com", b"Subject: deep"]
    for level in range(depth):
        lines += [b'Content-Type: multipart/mixed; boundary="b%d"' % level, b"", b"--b%d" % level]
    lines += [b"Content-Type: text/plain", b"", b"the innermost text"]
    lines += [b"--b%d--" % level for level in reversed(range(depth))]
    return b"\r\n".join(lines) + b"\r\n"


def html_mail(html: str, *, plain: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "ada@example.com"
    message["Subject"] = "newsletter"
    if plain is not None:
        message.set_content(plain)
        message.add_alternative(html, subtype="html")
    else:
        message.set_content(html, subtype="html")
    return message.as_bytes()


def test_parts_past_the_bound_are_not_read_and_the_message_is_flagged() -> None:
    item = parse_email(with_parts(50), limits=ParseLimits(max_parts=10))
    # the message, its multipart body, the text, then attachments up to ten parts
    assert [a.filename for a in item.attachments] == [f"f{n}.txt" for n in range(8)]
    assert item.text == "see attached"
    assert "unparsed" in item.flags
    assert "TooManyParts" in item.metadata["defects"]


def test_the_parser_stops_reading_past_the_part_bound() -> None:
    """The work is bounded, not only the result: parts beyond the bound are never made,
    save those in the last piece fed to the parser."""
    defects: list[str] = []
    message = read_message(with_parts(5000), _POLICY, ParseLimits(max_parts=100), defects)
    made = len(list(message.walk()))
    smallest_part = 100  # bytes: a boundary line and a few header lines at the least
    assert made <= 100 + FEED_CHUNK // smallest_part
    assert defects == ["TooManyParts"]


def test_the_default_bound_takes_a_5000_part_message_in_part() -> None:
    item = parse_email(with_parts(5000))
    assert 0 < len(item.attachments) <= 1000
    assert item.attachments[0].filename == "f0.txt"
    assert "unparsed" in item.flags


def test_a_message_within_the_bounds_is_read_whole_and_not_flagged() -> None:
    item = parse_email(with_parts(20), limits=ParseLimits(max_parts=22))
    assert len(item.attachments) == 20
    assert "unparsed" not in item.flags


def test_multiparts_nested_past_the_bound_are_not_opened() -> None:
    shallow = parse_email(nested(3), limits=ParseLimits(max_depth=5))
    assert shallow.text == "the innermost text"
    assert "unparsed" not in shallow.flags
    deep = parse_email(nested(8), limits=ParseLimits(max_depth=5))
    assert "the innermost text" not in (deep.text or "")
    assert "unparsed" in deep.flags
    assert "TooDeeplyNested" in deep.metadata["defects"]


def test_a_large_html_body_is_read_from_its_beginning_only_and_kept_raw() -> None:
    rows = "".join(f"<p>Paragraph {n}</p>\n" for n in range(2000))
    item = parse_email(html_mail(rows), limits=ParseLimits(max_html_chars=1000))
    assert item.text is not None
    assert item.text.startswith("Paragraph 0\n\nParagraph 1")
    assert "Paragraph 1999" not in item.text
    assert "<" not in item.text  # cut before a tag, never inside one
    assert item.html is None  # too large to show: it stays in the raw message
    assert "unparsed" in item.flags
    assert "HtmlTooLarge" in item.metadata["defects"]


def test_an_html_body_within_the_bound_is_kept_and_read_whole() -> None:
    rows = "".join(f"<p>Paragraph {n}</p>\n" for n in range(20))
    item = parse_email(html_mail(rows), limits=ParseLimits(max_html_chars=len(rows) + 100))
    assert item.html is not None
    assert "Paragraph 19" in item.html
    assert item.text is not None
    assert "Paragraph 19" in item.text
    assert "unparsed" not in item.flags


def test_a_large_html_alternative_beside_plain_text_keeps_the_plain_text() -> None:
    rows = "<p>x</p>" * 1000
    item = parse_email(html_mail(rows, plain="Hello"), limits=ParseLimits(max_html_chars=1000))
    assert item.text == "Hello"
    assert item.html is None
    assert "unparsed" in item.flags


@pytest.mark.parametrize(
    "address",
    ["ada\x00@example.com", "ada@example.com\x00", "ada\r@example.com", "a\x7f@example.com",
     "a" * 255 + "@example.com"],
)  # fmt: skip
def test_malformed_envelope_addresses(address: str) -> None:
    assert envelope_address_problem(address) is not None


@pytest.mark.parametrize(
    "address",
    ["ada@example.com", "postmaster", "élodie@exemple.fr", "a" * 64 + "@" + "b" * 180 + ".com"],
)
def test_well_formed_envelope_addresses(address: str) -> None:
    assert envelope_address_problem(address) is None
