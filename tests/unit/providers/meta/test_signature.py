"""Meta's X-Hub-Signature-256 and the subscription handshake, on the recorded requests."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.providers.meta import answer_verification, verify_signature

from .recorded import PAYLOADS, SIGNED, load


def test_every_recorded_payload_is_exercised() -> None:
    assert len(SIGNED) >= 20
    assert "whatsapp_text_message" in SIGNED


@pytest.mark.parametrize("name", SIGNED)
def test_the_recorded_signature_is_accepted(name: str) -> None:
    recorded = load(name)
    assert verify_signature(recorded.body, recorded.signature, recorded.secret)


@pytest.mark.parametrize("name", SIGNED)
def test_changing_any_byte_of_the_body_is_refused(name: str) -> None:
    recorded = load(name)
    for position in range(len(recorded.body)):
        tampered = bytearray(recorded.body)
        tampered[position] ^= 0x01
        assert not verify_signature(bytes(tampered), recorded.signature, recorded.secret)


@pytest.mark.parametrize("name", SIGNED)
def test_another_secret_is_refused(name: str) -> None:
    recorded = load(name)
    for secret in (recorded.secret + "x", recorded.secret[:-1], recorded.secret.upper(), ""):
        assert not verify_signature(recorded.body, recorded.signature, secret)


def test_a_reserialised_body_is_refused() -> None:
    """Meta escapes non-ASCII; the same JSON written back with UTF-8 is other bytes."""
    recorded = load("messenger_text_message")
    rewritten = json.dumps(json.loads(recorded.body), ensure_ascii=False, separators=(",", ":"))
    assert rewritten.encode() != recorded.body
    assert not verify_signature(rewritten.encode(), recorded.signature, recorded.secret)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "8715fad6abf17260773f2d53d012a97616e9500fcb72fd9bac05a37e4da0b7ff",
        "sha1=29e4ef9be507324e755fb0c9a24a1aa57eb7f702",
        "SHA256=8715fad6abf17260773f2d53d012a97616e9500fcb72fd9bac05a37e4da0b7ff",
        "sha256=8715fad6abf17260773f2d53d012a97616e9500fcb72fd9bac05a37e4da0b7f",
        "sha256= 8715fad6abf17260773f2d53d012a97616e9500fcb72fd9bac05a37e4da0b7ff",
        "sha256=é715fad6abf17260773f2d53d012a97616e9500fcb72fd9bac05a37e4da0b7ff",
    ],
)
def test_a_missing_or_malformed_header_is_refused(header: str | None) -> None:
    recorded = load("whatsapp_text_message")
    assert not verify_signature(recorded.body, header, recorded.secret)


def test_upper_case_hex_is_the_same_signature() -> None:
    recorded = load("whatsapp_text_message")
    digest = recorded.signature.removeprefix("sha256=")
    assert verify_signature(recorded.body, "sha256=" + digest.upper(), recorded.secret)


@given(body=st.binary(max_size=512), header=st.none() | st.text(), secret=st.text())
def test_verify_signature_never_raises(body: bytes, header: str | None, secret: str) -> None:
    assert verify_signature(body, header, secret) in (True, False)


def _verification_params() -> dict[str, str]:
    request = json.loads((PAYLOADS / "verification_request.json").read_text(encoding="utf-8"))
    return dict(parse_qsl(urlsplit(request["url"]).query))


def test_the_handshake_echoes_the_challenge() -> None:
    assert answer_verification(_verification_params(), "meatyhamhock") == "1158201444"


@pytest.mark.parametrize(
    ("change", "token"),
    [
        ({}, "another-token"),
        ({}, ""),
        ({"hub.mode": "unsubscribe"}, "meatyhamhock"),
        ({"hub.verify_token": "meatyhamhoc"}, "meatyhamhock"),
        ({"hub.challenge": ""}, "meatyhamhock"),
        ({"hub.challenge": "<script>alert(1)</script> x"}, "meatyhamhock"),
        ({"hub.challenge": "9" * 257}, "meatyhamhock"),
    ],
)
def test_the_handshake_is_refused(change: dict[str, str], token: str) -> None:
    assert answer_verification({**_verification_params(), **change}, token) is None


def test_the_handshake_without_a_token_is_refused() -> None:
    params = _verification_params()
    del params["hub.verify_token"]
    assert answer_verification(params, "meatyhamhock") is None


@given(params=st.dictionaries(st.text(), st.text()), token=st.text())
def test_answer_verification_never_raises(params: dict[str, str], token: str) -> None:
    answer = answer_verification(params, token)
    assert answer is None or answer == params["hub.challenge"]
