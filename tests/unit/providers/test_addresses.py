"""Our address at each provider reads one way, by the rule its adapter declares."""

from __future__ import annotations

import pytest

from opencx.core.errors import InvalidInput
from opencx.providers.addresses import normalise_address


@pytest.mark.parametrize(
    ("provider", "raw", "stored"),
    [
        ("smtp", " Support@Example.COM ", "support@example.com"),
        ("imap", "Help@Example.org", "help@example.org"),
        ("twilio", "whatsapp:+33 6 12 34 56 78", "+33612345678"),
        ("twilio", "+1 (415) 555-0100", "+14155550100"),
        ("twilio", "12345", "12345"),  # a short code is kept as given
        ("meta", " 106540352242922 ", "106540352242922"),
        ("google_play", " com.example.app ", "com.example.app"),
        ("widget", "wk_1", "wk_1"),
    ],
)
def test_an_address_is_stored_by_its_providers_rule(provider: str, raw: str, stored: str) -> None:
    assert normalise_address(provider, raw) == stored


@pytest.mark.parametrize(
    ("provider", "raw"),
    [("smtp", "not an address"), ("meta", "+33612345678"), ("twilio", ""), ("x", " ")],
)
def test_what_is_no_address_at_its_provider_is_refused_naming_the_field(
    provider: str, raw: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_address(provider, raw)
    assert refused.value.extra["field"] == "address"
