"""The trust rules of e-mail: a trusted relay's verdict on the sender, which subjects
name one matter, and where answers go."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from opencx.core.mail_trust import (
    AuthVerdict,
    aligned_dkim_verdict,
    answer_address,
    may_join_existing,
    same_subject,
    sender_verdict,
    thread_subject,
)
from opencx.providers.email import dkim_signatures, parse_email, trusted_results

RELAY = "mx.example.org"


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        ([("spf", "pass"), ("dkim", "pass"), ("dmarc", "pass")], AuthVerdict.PASS),
        ([("spf", "pass"), ("dkim", "pass"), ("dmarc", "fail")], AuthVerdict.FAIL),
        ([("dmarc", "none")], AuthVerdict.NONE),
        ([("dmarc", "temperror")], AuthVerdict.NONE),
        ([("spf", "fail")], AuthVerdict.FAIL),
        ([("spf", "fail"), ("dkim", "pass")], AuthVerdict.NONE),
        ([("dkim", "pass")], AuthVerdict.NONE),  # a signature of any domain proves no From
        ([("spf", "pass")], AuthVerdict.NONE),
        ([("DMARC", "Fail ")], AuthVerdict.FAIL),
        ([], AuthVerdict.NONE),
    ],
)
def test_the_verdict_follows_dmarc_then_a_hard_spf_failure(
    results: list[tuple[str, str]], verdict: AuthVerdict
) -> None:
    assert sender_verdict(results) is verdict


def test_only_a_failed_sender_is_kept_out_of_existing_conversations() -> None:
    assert not may_join_existing(AuthVerdict.FAIL)
    assert may_join_existing(AuthVerdict.NONE)
    assert may_join_existing(AuthVerdict.PASS)
    assert may_join_existing(None)


def test_only_a_trusted_relays_field_counts_and_the_first_one_wins() -> None:
    fields = [
        "evil.example.net; dmarc=pass header.from=example.com",
        f"{RELAY.upper()}; spf=pass smtp.mailfrom=example.com; dmarc=fail (p=reject) "
        "header.from=example.com",
        f"{RELAY}; dmarc=pass header.from=example.com",  # written by the sender, below ours
    ]
    found = trusted_results(fields, [RELAY])
    assert found is not None
    assert found.authserv_id == RELAY
    assert found.results == (("spf", "pass"), ("dmarc", "fail"))
    assert trusted_results(fields, []) is None
    assert trusted_results(fields, ["other.example.org"]) is None


def test_a_field_that_does_not_parse_proves_nothing() -> None:
    assert trusted_results(["garbage", "", f"{RELAY}; spf"], [RELAY]) is None
    none = trusted_results([f"{RELAY}; none"], [RELAY])
    assert none is not None
    assert none.results == ()


def test_parsing_keeps_every_authentication_results_field_in_order() -> None:
    raw = (
        b"Authentication-Results: mx.example.org; dmarc=fail header.from=example.com\r\n"
        b"Authentication-Results: other; dmarc=pass\r\n"
        b"From: ada@example.com\r\nSubject: x\r\n\r\nbody\r\n"
    )
    item = parse_email(raw)
    assert item.metadata["authentication_results"] == (
        "mx.example.org; dmarc=fail header.from=example.com",
        "other; dmarc=pass",
    )


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("Parcel 48213", "Re: Parcel 48213", True),
        ("Parcel 48213", "RE: Fwd: parcel  48213 [#12]", True),
        ("Parcel 48213", "Invoice 2231", False),
        ("", "", False),
        ("Re:", "", False),
    ],
)
def test_reply_prefixes_and_tokens_do_not_change_a_subject(
    first: str, second: str, same: bool
) -> None:
    assert same_subject(first, second) is same
    assert thread_subject("  Re: AW: Hello [#4]  World ") == "hello world"


def test_answers_go_to_a_confirmed_address_only() -> None:
    confirmed = ["ada@example.com", "ada@work.example.com"]
    # The attack: From the customer, Reply-To someone else.
    assert (
        answer_address(reply_to=["evil@example.net"], sender="ada@example.com", confirmed=confirmed)
        == "ada@example.com"
    )
    assert (
        answer_address(
            reply_to=["ada@work.example.com"], sender="ada@example.com", confirmed=confirmed
        )
        == "ada@work.example.com"
    )
    # A colleague in copy is not the customer: the customer's own address answers.
    assert (
        answer_address(reply_to=[], sender="bob@example.com", confirmed=confirmed)
        == "ada@example.com"
    )
    assert answer_address(reply_to=[], sender="bob@example.com", confirmed=[]) is None


def dkim_key() -> tuple[bytes, bytes]:
    """A private key (PEM) and its DNS TXT record, as a domain would publish it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_our_own_dkim_check_passes_a_good_signature_and_fails_a_changed_message() -> None:
    dkim = pytest.importorskip("dkim")
    private, record = dkim_key()
    message = b"From: Ada <ada@mail.example.com>\r\nSubject: Parcel\r\n\r\nWhere is it?\r\n"
    signed = dkim.sign(message, b"s1", b"example.com", private) + message

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"s1._domainkey.example.com." else None

    assert dkim_signatures(signed, lookup=lookup) == (("example.com", "pass"),)
    changed = signed.replace(b"Where is it?", b"Send it to me.")
    assert dkim_signatures(changed, lookup=lookup) == (("example.com", "fail"),)
    assert dkim_signatures(message, lookup=lookup) == ()
    assert dkim_signatures(signed, lookup=lambda name, timeout=5: None) == (
        ("example.com", "fail"),
    )


def test_only_an_aligned_passing_signature_proves_the_sender() -> None:
    sender = "ada@mail.example.com"
    assert aligned_dkim_verdict(sender, [("example.com", "pass")]) is AuthVerdict.PASS
    assert aligned_dkim_verdict(sender, [("mail.example.com", "pass")]) is AuthVerdict.PASS
    assert aligned_dkim_verdict(sender, [("evil.example.net", "pass")]) is AuthVerdict.NONE
    assert aligned_dkim_verdict(sender, [("ample.com", "pass")]) is AuthVerdict.NONE
    assert aligned_dkim_verdict(sender, [("com", "pass")]) is AuthVerdict.NONE
    # A broken signature proves nothing either way: never a failure.
    assert aligned_dkim_verdict(sender, [("example.com", "fail")]) is AuthVerdict.NONE


def test_only_the_first_fields_are_read() -> None:
    padding = ["mx.evil.example.net; dmarc=pass"] * 10
    assert trusted_results([*padding, f"{RELAY}; dmarc=fail"], [RELAY]) is None
    found = trusted_results([f"{RELAY}; dmarc=fail", *padding * 1000], [RELAY])
    assert found is not None
    assert found.results == (("dmarc", "fail"),)
