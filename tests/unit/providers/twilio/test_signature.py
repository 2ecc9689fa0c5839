"""X-Twilio-Signature on the recorded requests, and the documented gotchas."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.providers.twilio import verify_json_signature, verify_signature

from .recorded import AUTH_TOKEN, FORMS, JSON_BODIES, form_pairs, load


def test_every_recorded_request_is_exercised() -> None:
    assert len(FORMS) == 12
    assert JSON_BODIES == ["json_body_signed"]


@pytest.mark.parametrize("name", FORMS)
def test_the_body_reads_as_the_documented_parameters(name: str) -> None:
    recorded = load(name)
    documented = recorded.documented_params
    expected = [tuple(pair) for pair in documented] if isinstance(documented, list) else None
    assert recorded.pairs == expected if expected else recorded.params == documented


@pytest.mark.parametrize("name", FORMS)
def test_the_recorded_signature_is_accepted(name: str) -> None:
    recorded = load(name)
    assert verify_signature(recorded.url, recorded.pairs, recorded.signature, recorded.token)


@pytest.mark.parametrize("name", FORMS)
def test_changing_any_byte_of_the_body_is_refused(name: str) -> None:
    recorded = load(name)
    for position in range(len(recorded.body)):
        tampered = bytearray(recorded.body)
        tampered[position] ^= 0x01
        pairs = form_pairs(bytes(tampered))
        assert not verify_signature(recorded.url, pairs, recorded.signature, recorded.token)


@pytest.mark.parametrize("name", FORMS)
def test_another_token_is_refused(name: str) -> None:
    recorded = load(name)
    for token in ("12346", "1234", "123456", ""):
        assert not verify_signature(recorded.url, recorded.pairs, recorded.signature, token)


@pytest.mark.parametrize("name", FORMS)
def test_another_url_is_refused(name: str) -> None:
    recorded = load(name)
    for url in (
        recorded.url.replace("https://", "http://"),
        recorded.url.replace("support.", "supp0rt."),
        recorded.url + "x",
        recorded.url.replace("/webhooks/", "/webhook/"),
        recorded.url + ("&" if "?" in recorded.url else "?") + "extra=1",
    ):
        assert not verify_signature(url, recorded.pairs, recorded.signature, recorded.token)


def test_the_french_sms_is_signed_over_its_utf8_text() -> None:
    recorded = load("sms_inbound_fr_utf8")
    params = recorded.params
    assert params["Body"].endswith("vérifier ? 🙏")
    latin1 = params["Body"].encode("utf-8").decode("latin-1")
    mangled = {**params, "Body": latin1}
    assert not verify_signature(recorded.url, mangled, recorded.signature, AUTH_TOKEN)


def test_a_url_signed_with_the_default_port_is_accepted_without_it() -> None:
    recorded = load("sms_inbound_signed_with_port")
    assert ":443" not in recorded.url
    for url in (recorded.url, recorded.url.replace(".com/", ".com:443/")):
        assert verify_signature(url, recorded.pairs, recorded.signature, AUTH_TOKEN)


def test_a_url_signed_without_the_port_is_accepted_with_it() -> None:
    recorded = load("sms_inbound_fr_utf8")
    url = recorded.url.replace(".com/", ".com:443/")
    assert verify_signature(url, recorded.pairs, recorded.signature, AUTH_TOKEN)


def test_any_port_is_tried_without_it_as_the_official_validator_does() -> None:
    """A proxy may show the application a port Twilio never saw; the port is no secret."""
    recorded = load("sms_inbound_fr_utf8")
    url = recorded.url.replace(".com/", ".com:8443/")
    assert verify_signature(url, recorded.pairs, recorded.signature, AUTH_TOKEN)


def test_the_query_string_is_signed() -> None:
    recorded = load("voice_gather_digits")
    assert recorded.url.endswith("?step=menu")
    bare = recorded.url.removesuffix("?step=menu")
    assert not verify_signature(bare, recorded.pairs, recorded.signature, AUTH_TOKEN)


def test_repeated_parameters_count_each_value() -> None:
    recorded = load("sms_inbound_repeated_params")
    assert [value for name, value in recorded.pairs if name == "Tag"] == ["vip", "billing"]
    assert verify_signature(recorded.url, recorded.pairs, recorded.signature, AUTH_TOKEN)
    reordered = sorted(recorded.pairs, reverse=True)
    assert verify_signature(recorded.url, reordered, recorded.signature, AUTH_TOKEN)
    one_value = dict(recorded.pairs)  # a plain dict keeps only the last Tag
    assert not verify_signature(recorded.url, one_value, recorded.signature, AUTH_TOKEN)
    dropped = [pair for pair in recorded.pairs if pair != ("Tag", "vip")]
    assert not verify_signature(recorded.url, dropped, recorded.signature, AUTH_TOKEN)


def test_twilios_documented_example() -> None:
    """The worked example of Twilio's security documentation."""
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert verify_signature(url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345")


def test_a_json_body_is_signed_through_its_hash() -> None:
    recorded = load("json_body_signed")
    assert "bodySHA256=" in recorded.url
    assert verify_json_signature(recorded.url, recorded.body, recorded.signature, AUTH_TOKEN)
    assert not verify_json_signature(recorded.url, recorded.body, recorded.signature, "54321")
    for position in range(len(recorded.body)):
        tampered = bytearray(recorded.body)
        tampered[position] ^= 0x01
        assert not verify_json_signature(
            recorded.url, bytes(tampered), recorded.signature, AUTH_TOKEN
        )


def test_a_json_body_needs_its_declared_hash() -> None:
    recorded = load("json_body_signed")
    bare = recorded.url.split("?")[0]
    assert not verify_json_signature(bare, recorded.body, recorded.signature, AUTH_TOKEN)
    other_hash = recorded.url[:-1] + ("0" if recorded.url[-1] != "0" else "1")
    assert not verify_json_signature(other_hash, recorded.body, recorded.signature, AUTH_TOKEN)


@pytest.mark.parametrize("header", [None, "", " ", "not base64", "xoYJ2XyXSOhVaacgoiwDn2+RxsU"])
def test_a_missing_or_wrong_header_is_refused(header: str | None) -> None:
    recorded = load("sms_inbound_fr_utf8")
    assert not verify_signature(recorded.url, recorded.pairs, header, AUTH_TOKEN)


@pytest.mark.parametrize(
    "url", ["", "not a url", "https://[::1/x", "https://host:99999/x", "https://host:port/x"]
)
def test_an_unparsable_url_is_refused_without_raising(url: str) -> None:
    recorded = load("sms_inbound_fr_utf8")
    assert not verify_signature(url, recorded.pairs, recorded.signature, AUTH_TOKEN)
    assert not verify_json_signature(url, recorded.body, recorded.signature, AUTH_TOKEN)


@given(
    url=st.text(),
    params=st.lists(st.tuples(st.text(), st.text()), max_size=5),
    header=st.none() | st.text(),
    token=st.text(),
    body=st.binary(max_size=64),
)
def test_verification_never_raises(
    url: str, params: list[tuple[str, str]], header: str | None, token: str, body: bytes
) -> None:
    assert verify_signature(url, params, header, token) in (True, False)
    assert verify_json_signature(url, body, header, token) in (True, False)
