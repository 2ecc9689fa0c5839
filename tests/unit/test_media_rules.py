"""Which media files customers send are kept (``opencx.core.media``), and the requests
that fetch them from each provider (``opencx.providers``)."""

from __future__ import annotations

import pytest

from opencx.core.media import MediaVerdict, bare_type, judge_media
from opencx.providers import meta, twilio
from opencx.providers.base import UnreadablePayload

ALLOWED = ["image/jpeg", "image/png", "audio/*", "application/pdf", "text/plain"]
KNOWN = frozenset({"image/jpeg", "image/png", "audio/ogg", "application/pdf", "application/zip"})


def judge(
    size: int = 10, declared: str | None = "image/png", detected: str | None = "image/png"
) -> MediaVerdict:
    return judge_media(
        size=size,
        declared=declared,
        detected=detected,
        recognisable=KNOWN,
        allowed=ALLOWED,
        max_bytes=100,
    )


def test_a_file_is_kept_under_the_type_its_bytes_show() -> None:
    assert judge().content_type == "image/png"
    # A phone that says JPEG for a PNG: the bytes decide.
    assert judge(declared="image/jpeg").content_type == "image/png"
    assert judge(declared="audio/ogg; codecs=opus", detected="audio/ogg").content_type == (
        "audio/ogg"
    )


def test_size_is_checked_first_and_named() -> None:
    refused = judge(size=101)
    assert not refused.kept
    assert refused.reason == "the file is larger than 100 bytes"
    assert judge(size=100).kept


def test_types_not_allowed_are_refused_whatever_is_declared() -> None:
    assert judge(declared="image/png", detected="application/zip").reason == (
        "files of type application/zip are not accepted"
    )
    assert judge(declared="text/html", detected=None).reason == (
        "files of type text/html are not accepted"
    )


def test_bytes_without_the_signature_their_type_has_are_refused() -> None:
    assert judge(declared="image/jpeg", detected=None).reason == (
        "the file is not the image/jpeg it is declared as"
    )
    # Plain text has no signature: its declared type stands.
    assert judge(declared="text/plain; charset=utf-8", detected=None).content_type == "text/plain"
    assert judge(declared=None, detected=None).reason == "the file has no type"


def test_bare_types() -> None:
    assert bare_type(" Image/JPEG ; q=1") == "image/jpeg"
    assert bare_type(None) == ""


def test_twilio_media_is_fetched_with_the_account_credentials() -> None:
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    request = twilio.media_request(url, account_sid="AC1", auth_token="secret")
    assert request.headers == {"Authorization": "Basic QUMxOnNlY3JldA=="}
    assert "secret" not in repr(request)
    assert twilio.media_request(url, account_sid=None, auth_token="secret").headers == {}


def test_whatsapp_media_ids_are_exchanged_with_the_bearer_token() -> None:
    request = meta.media_lookup_request(
        "1234", graph_base="https://graph.facebook.com/", graph_version="v21.0", access_token="t"
    )
    assert request.url == "https://graph.facebook.com/v21.0/1234"
    assert request.headers == {"Authorization": "Bearer t"}
    with pytest.raises(UnreadablePayload):
        meta.media_lookup_request("../me", graph_base="x", graph_version="v", access_token="t")
    found = meta.read_media_lookup(
        b'{"url": "https://lookaside.fbsbx.com/x", "mime_type": "image/jpeg", "file_size": 7}'
    )
    assert (found.url, found.mime_type, found.file_size) == (
        "https://lookaside.fbsbx.com/x",
        "image/jpeg",
        7,
    )
    with pytest.raises(UnreadablePayload):
        meta.read_media_lookup(b'{"error": {"message": "x"}}')
