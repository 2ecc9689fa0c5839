"""Identity normalisation: one person's address always reads the same, bad input is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import IdentityKind
from opencx.core.errors import InvalidInput
from opencx.core.identities import (
    LABEL_ORDER,
    MAX_IDENTITY_LENGTH,
    customer_label,
    normalise_email,
    normalise_handle,
    parse_identity_kind,
    split_identity_ref,
)
from opencx.features.customers.identities import normalise_identity, normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("a+tag@mail.example.org", "a+tag@mail.example.org"),
        ("Élise@Exämple.fr", "élise@exämple.fr"),
    ],
)
def test_emails_are_trimmed_and_lowercased(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "jane",
        "jane@",
        "@example.com",
        "jane@localhost",
        "jane@@example.com",
        "ja ne@example.com",
        "a..b@example.com",
        ".a@example.com",
        "jane@-example.com",
        "jane@example..com",
        "jane@example.123",
        "jane@exa_mple.com",
        f"{'a' * 65}@example.com",
        "",
    ],
)
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email(raw)
    assert caught.value.extra["field"] == "value"


def test_handles_are_trimmed_bounded_and_printable() -> None:
    assert normalise_handle("  4471223344 ") == "4471223344"
    assert normalise_handle("x" * MAX_IDENTITY_LENGTH) == "x" * MAX_IDENTITY_LENGTH
    for bad in ["   ", "x" * (MAX_IDENTITY_LENGTH + 1), "abc\x00def", "a\u200bb"]:
        with pytest.raises(InvalidInput):
            normalise_handle(bad)


def test_identity_references_split_on_the_first_colon() -> None:
    assert split_identity_ref("email:a@b.co") == (IdentityKind.EMAIL, "a@b.co")
    assert split_identity_ref("External:crm:42") == (IdentityKind.EXTERNAL, "crm:42")
    assert parse_identity_kind(" Messenger ") is IdentityKind.MESSENGER
    for bad in ["email", "email:", "fax:123", ":x"]:
        with pytest.raises(InvalidInput):
            split_identity_ref(bad)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+33 6 12 34 56 78", None, "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("0470 12 34 56", "be", "+32470123456"),
        ("+48 512 345 678", "FR", "+48512345678"),
    ],
)
def test_phones_become_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalise_phone(raw, region=region) == expected


@pytest.mark.parametrize(
    "raw", ["12345", "+999123456789", "0612345678", "+33 1", "hello", "  +999 1  "]
)
def test_numbers_that_do_not_parse_are_kept_as_given_each_its_own(raw: str) -> None:
    assert normalise_phone(raw) == raw.strip()
    assert normalise_identity(IdentityKind.PHONE, raw) == raw.strip()


def test_one_phone_rule_for_intake_identities_and_accounts() -> None:
    from opencx.features.directory.channel_accounts import normalise_address
    from opencx.providers.twilio import parse_message

    for raw in ["+33 6 12 34 56 78", "12345", "+999123456789"]:
        sender = parse_message([("MessageSid", "SM1"), ("From", raw), ("To", "+1")]).sender
        assert sender.value == normalise_identity(IdentityKind.PHONE, raw)
        assert normalise_address("twilio", f"whatsapp:{raw}") == sender.value


def test_whatsapp_numbers_follow_the_phone_rule_and_user_ids_stay_handles() -> None:
    assert normalise_identity(IdentityKind.WHATSAPP, "+33 6 12 34 56 78") == "+33612345678"
    assert normalise_identity(IdentityKind.WHATSAPP, " US.13491208655302741918 ") == (
        "US.13491208655302741918"
    )


def test_what_is_no_number_at_all_is_refused_naming_the_field() -> None:
    cases = [("", None, "value"), ("+33\x006", None, "value"), ("0612345678", "ZZ", "region")]
    cases.append(("9" * 400, None, "value"))
    for raw, region, field in cases:
        with pytest.raises(InvalidInput) as caught:
            normalise_phone(raw, region=region)
        assert caught.value.extra["field"] == field, raw


def test_normalise_identity_dispatches_on_kind() -> None:
    assert normalise_identity(IdentityKind.EMAIL, " A@B.CO ") == "a@b.co"
    assert normalise_identity(IdentityKind.PHONE, "06 12 34 56 78", region="FR") == "+33612345678"
    assert normalise_identity(IdentityKind.MESSENGER, " PSID-ABC ") == "PSID-ABC"


def test_a_customer_is_named_by_their_name_else_their_best_identity() -> None:
    identities = [
        (IdentityKind.WEB, "visitor-1", True),
        (IdentityKind.EMAIL, "old@example.com", False),  # a Reply-To not confirmed
        (IdentityKind.PHONE, "+33612345678", True),
        (IdentityKind.PHONE, "+33700000000", True),
    ]
    assert customer_label("Ada", identities) == "Ada"
    assert customer_label("  ", identities) == "+33612345678"
    assert customer_label("", identities[:2]) == "visitor-1"
    assert customer_label("", []) is None


_IDENTITIES = st.lists(
    st.tuples(st.sampled_from(list(IdentityKind)), st.text(min_size=1, max_size=5), st.booleans()),
    max_size=6,
)


@given(name=st.text(max_size=5), identities=_IDENTITIES)
def test_the_label_is_the_name_or_the_first_of_the_best_ranked_identities(
    name: str, identities: list[tuple[IdentityKind, str, bool]]
) -> None:
    label = customer_label(name, identities)
    if name.strip():
        assert label == name
    elif not identities:
        assert label is None
    else:
        best = min(identities, key=lambda i: (not i[2], LABEL_ORDER.index(i[0])))
        first = next(i for i in identities if (not i[2], i[0]) == (not best[2], best[0]))
        assert label == first[1]
