"""Properties over any input: parsing never raises, tokens and texts survive round trips."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from opencx.core.ids import MAX_ID
from opencx.providers.base import InboundMessage
from opencx.providers.email import (
    Mailbox,
    compose_reply,
    find_ticket_token,
    html_to_text,
    parse_email,
    reply_subject,
    strip_quoted_reply,
    ticket_token,
)

from .corpus import NAMES, raw

PROPERTIES = settings(max_examples=200, deadline=None, derandomize=True, database=None)
IDS = st.integers(min_value=1, max_value=MAX_ID)
#: What people type: any printable text, line breaks, no control characters.
TYPED = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")) | st.just("\n"), max_size=300
)
SNIPPETS = st.sampled_from(
    [b"\n", b"\r\n", b"--", b"=?utf-8?q?", b"?=", b"<", b">", b";", b'"', b"\x00", b"\xff",
     b"*0*=", b"boundary=", b"charset=", b"Content-Type: multipart/mixed; boundary=x\n",
     b"Content-Transfer-Encoding: base64\n", b"=\n", b"<![", b"\n\n"]
)  # fmt: skip


def strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from strings(item)


def assert_well_formed(message: InboundMessage) -> None:
    assert message.provider_message_id
    assert message.sent_at is None or message.sent_at.tzinfo is UTC
    texts = [message.text, message.html or "", message.subject or "", message.sender.value]
    texts += [attachment.filename for attachment in message.attachments]
    for text in [*texts, *strings(message.metadata)]:
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: storable as is


@PROPERTIES
@given(st.binary(min_size=1, max_size=2000))
def test_parsing_any_bytes_never_raises(data: bytes) -> None:
    assert_well_formed(parse_email(data))


@PROPERTIES
@given(
    st.sampled_from(NAMES),
    st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 40), SNIPPETS | st.binary(max_size=12)),
        min_size=1,
        max_size=8,
    ),
)
def test_parsing_damaged_real_messages_never_raises(
    name: str, edits: list[tuple[float, int, bytes]]
) -> None:
    data = bytearray(raw(name))
    for where, cut, insert in edits:
        at = int(where * len(data))
        data[at : at + cut] = insert
    assume(data)
    assert_well_formed(parse_email(bytes(data)))


@PROPERTIES
@given(st.text(max_size=60), IDS, st.text(max_size=60))
def test_a_token_is_found_inside_any_subject(before: str, number: int, after: str) -> None:
    assume(find_ticket_token(before) is None)

    assert find_ticket_token(f"{before}{ticket_token(number)}{after}") == number


@PROPERTIES
@given(st.text(max_size=80), IDS)
def test_a_reply_subject_carries_its_token_and_one_re(subject: str, number: int) -> None:
    once = reply_subject(subject, conversation_id=number)

    assert find_ticket_token(once) == number
    assert reply_subject(once, conversation_id=number) == once
    assert not once.lower().startswith("re: re:")


@PROPERTIES
@given(TYPED, IDS)
def test_text_and_token_survive_compose_then_parse(text: str, number: int) -> None:
    message = compose_reply(
        Mailbox("support@shop.example.com"),
        to="jane@example.com",
        subject="Your order",
        conversation_id=number,
        message_id_part="p1",
        sent_at=datetime(2024, 6, 3, tzinfo=UTC),
        text=text,
        in_reply_to="c@example.com",
        references=["a@example.com", "b@example.com"],
    )
    back = parse_email(message.as_bytes())

    assert back.metadata["full_text"] == text.strip()
    assert back.metadata["subject_token"] == number
    assert back.thread_refs == ("a@example.com", "b@example.com", "c@example.com")


@PROPERTIES
@given(st.text(max_size=500))
def test_html_to_text_never_raises(html: str) -> None:
    assert "\n\n\n" not in html_to_text(html)


@PROPERTIES
@given(TYPED)
def test_stripping_quotes_keeps_only_lines_of_the_text(text: str) -> None:
    lines = text.split("\n")

    assert set(strip_quoted_reply(text).split("\n")) <= {*lines, *map(str.rstrip, lines)}
