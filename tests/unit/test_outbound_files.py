"""Which files an answer may carry on each channel (``opencx.core.outbound_files``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import Channel
from opencx.core.outbound_files import (
    FILE_RULES,
    OutboundFile,
    fetched_by_provider,
    file_refusal,
)

CONTENT_TYPES = st.sampled_from(
    ["application/pdf", "image/png", "image/jpeg", "video/mp4", "audio/ogg", "text/plain"]
)
FILES = st.builds(
    OutboundFile,
    filename=st.text(min_size=1, max_size=20),
    content_type=CONTENT_TYPES,
    size=st.integers(min_value=0, max_value=30_000_000),
)
TEXTS = st.sampled_from(["", "  ", "Voici votre facture"])


@given(channel=st.sampled_from(list(Channel)), text=TEXTS)
def test_no_file_is_never_refused(channel: Channel, text: str) -> None:
    assert file_refusal(channel, [], text=text) is None


@given(
    channel=st.sampled_from([c for c in Channel if c not in FILE_RULES]),
    files=st.lists(FILES, min_size=1, max_size=3),
    text=TEXTS,
)
def test_channels_without_files_refuse_any(
    channel: Channel, files: list[OutboundFile], text: str
) -> None:
    assert file_refusal(channel, files, text=text) == f"a {channel.value} answer carries no files"


@given(
    channel=st.sampled_from(list(FILE_RULES)),
    files=st.lists(FILES, min_size=1, max_size=12),
    text=TEXTS,
)
def test_a_refusal_is_given_exactly_when_a_documented_limit_is_passed(
    channel: Channel, files: list[OutboundFile], text: str
) -> None:
    rule = FILE_RULES[channel]
    over = (
        len(files) > rule.max_files
        or (rule.max_total_bytes is not None and sum(f.size for f in files) > rule.max_total_bytes)
        or (bool(text.strip()) and not rule.text_with_file)
        or (
            bool(text.strip())
            and not rule.text_with_audio
            and any(f.content_type.startswith("audio/") for f in files)
        )
    )
    refusal = file_refusal(channel, files, text=text)
    assert (refusal is not None) == over
    if refusal is not None:
        assert refusal[0].isupper()  # a sentence the agent reads as it is


@given(files=st.lists(FILES, min_size=1, max_size=3), text=TEXTS)
def test_a_whatsapp_template_takes_one_file_that_is_not_audio_as_its_header(
    files: list[OutboundFile], text: str
) -> None:
    refusal = file_refusal(Channel.WHATSAPP, files, text=text, template=True)
    header_refused = len(files) > 1 or files[0].content_type.startswith("audio/")
    if header_refused:
        assert refusal is not None
        assert "WhatsApp template" in refusal
    else:
        assert refusal == file_refusal(Channel.WHATSAPP, files, text=text)


def test_the_documented_limits() -> None:
    pdf = OutboundFile("a.pdf", "application/pdf", 1000)
    assert file_refusal(Channel.WHATSAPP, [pdf, pdf], text="") == (
        "A WhatsApp message carries one file: send each file in its own message"
    )
    assert file_refusal(Channel.SMS, [pdf] * 11, text="") == "An SMS (MMS) carries at most 10 files"
    big = OutboundFile("b.png", "image/png", 5_000_001)
    assert file_refusal(Channel.SMS, [big], text="") == (
        "An SMS (MMS) carries at most 5 MB of files (5.1 MB given)"
    )
    assert file_refusal(Channel.MESSENGER, [pdf], text="Hi") == (
        "A Messenger message with a file carries no text: send the text in its own message"
    )
    voice = OutboundFile("v.ogg", "audio/ogg", 1000)
    assert file_refusal(Channel.WHATSAPP, [voice], text="Hi") is not None
    assert file_refusal(Channel.WHATSAPP, [voice], text="") is None
    assert file_refusal(Channel.EMAIL, [pdf] * 50, text="Hi") is None


def test_providers_that_download_files_need_a_public_address() -> None:
    assert {c for c in Channel if fetched_by_provider(c)} == {
        Channel.SMS,
        Channel.WHATSAPP,
        Channel.MESSENGER,
        Channel.INSTAGRAM,
    }
