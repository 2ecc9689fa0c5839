"""Which files an answer may carry on each channel, checked when the answer is written
so that the agent hears of a refusal at once rather than from a failed delivery.

The limits are the providers' documented ones:
- e-mail: any number of files, 18 MiB in all: base64 makes them a third larger, and
  relays commonly refuse messages above 25 MB;
- SMS: an MMS through Twilio carries at most 10 files, 5 MB in all;
- WhatsApp: one file per message (Twilio and Meta alike), 16 MB (Twilio's limit, and
  Meta's for audio and video); an audio file takes no caption, so no text;
- Messenger and Instagram: one file per message, 25 MB, and a message with a file has
  no text (the Send API's ``message`` is either ``text`` or ``attachment``);
- web chat: up to 10 files, each within the upload limit;
- voice, public reviews and X: no files;
- a WhatsApp template carries at most one file, its media header, which is an image, a
  video or a document (a template's header cannot be audio).

On SMS, WhatsApp, Messenger and Instagram the provider downloads each file from a URL
we give it (``fetched_by_provider``), so those need the server's public address.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opencx.core.enums import Channel

__all__ = ["FILE_RULES", "FileRule", "OutboundFile", "fetched_by_provider", "file_refusal"]

_MB = 1000 * 1000
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class OutboundFile:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class FileRule:
    max_files: int
    max_total_bytes: int | None = None  # None: each file within the upload limit
    text_with_file: bool = True
    text_with_audio: bool = True
    fetched_by_provider: bool = False


FILE_RULES: Mapping[Channel, FileRule] = {
    Channel.EMAIL: FileRule(max_files=100, max_total_bytes=18 * _MIB),
    Channel.CHAT: FileRule(max_files=10),
    Channel.SMS: FileRule(max_files=10, max_total_bytes=5 * _MB, fetched_by_provider=True),
    Channel.WHATSAPP: FileRule(
        max_files=1,
        max_total_bytes=16 * _MB,
        text_with_audio=False,
        fetched_by_provider=True,
    ),
    Channel.MESSENGER: FileRule(
        max_files=1, max_total_bytes=25 * _MB, text_with_file=False, fetched_by_provider=True
    ),
    Channel.INSTAGRAM: FileRule(
        max_files=1, max_total_bytes=25 * _MB, text_with_file=False, fetched_by_provider=True
    ),
}

_NAMES = {
    Channel.EMAIL: "An e-mail",
    Channel.CHAT: "A chat message",
    Channel.SMS: "An SMS (MMS)",
    Channel.WHATSAPP: "A WhatsApp message",
    Channel.MESSENGER: "A Messenger message",
    Channel.INSTAGRAM: "An Instagram message",
}


def fetched_by_provider(channel: Channel) -> bool:
    """Whether the provider downloads the files from a public URL of ours."""
    rule = FILE_RULES.get(channel)
    return rule is not None and rule.fetched_by_provider


def file_refusal(
    channel: Channel, files: Sequence[OutboundFile], *, text: str, template: bool = False
) -> str | None:
    """Why ``files`` cannot go out with ``text`` on ``channel`` (as a WhatsApp
    ``template``'s media header); ``None`` when they can."""
    if not files:
        return None
    if template:
        if len(files) > 1:
            return "A WhatsApp template carries one file at most: its media header"
        if _is_audio(files[0]):
            return "A WhatsApp template's media header is an image, a video or a document"
    rule = FILE_RULES.get(channel)
    if rule is None:
        return f"a {channel.value} answer carries no files"
    name = _NAMES[channel]
    if len(files) > rule.max_files:
        if rule.max_files == 1:
            return f"{name} carries one file: send each file in its own message"
        return f"{name} carries at most {rule.max_files} files"
    total = sum(file.size for file in files)
    if rule.max_total_bytes is not None and total > rule.max_total_bytes:
        return (
            f"{name} carries at most {_size(rule.max_total_bytes)} of files ({_size(total)} given)"
        )
    if text.strip():
        if not rule.text_with_file:
            return f"{name} with a file carries no text: send the text in its own message"
        if not rule.text_with_audio and any(_is_audio(file) for file in files):
            return f"{name} with an audio file carries no text: send the text in its own message"
    return None


def _is_audio(file: OutboundFile) -> bool:
    return file.content_type.startswith("audio/")


def _size(count: int) -> str:
    """``5 MB``, ``18 MiB``; a size over a limit rounds up, so it never reads as equal."""
    if count % _MB == 0:
        return f"{count // _MB} MB"
    if count % _MIB == 0:
        return f"{count // _MIB} MiB"
    if count >= _MB:
        return f"{math.ceil(count / (_MB / 10)) / 10:.1f} MB"
    return f"{count} bytes"
