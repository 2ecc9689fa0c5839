"""The trust rules of e-mail: a trusted relay's verdict on the sender, which subjects
name one matter, and where answers go."""

from __future__ import annotations

import pytest

from opencx.channels.email import parse_email, trusted_results
from opencx.core.mail_trust import (
    AuthVerdict,
    answer_address,
    may_join_existing,
    same_subject,
    sender_verdict,
    thread_subject,
)

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
