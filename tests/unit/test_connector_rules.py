"""The pure rules of connectors: URL templates that a customer's values can never lead
elsewhere, the path resolver, field formats, labels, the values a customer gives, and
who sees a connector."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.connectors import (
    MISSING,
    ConnectorStatus,
    FieldFormat,
    FieldSpec,
    connector_visible,
    customer_values,
    parse_path,
    parse_url_template,
    pick_label,
    read_fields,
    read_value,
    status_of_answer,
)
from opencx.core.enums import IdentityKind, Role, SiteKind
from opencx.core.errors import InvalidInput
from opencx.core.permissions import Principal

TEMPLATES = [
    "https://crm.example.com/api/customers/{customer.external_id}/contract",
    "http://crm.example.com:8080/v1/{customer.id}?email={customer.email}&tel={customer.phone}",
    "https://crm.example.com/x/{customer.attributes.contract_no}.json",
    "https://crm.example.com/search?q={customer.email}{customer.phone}",
]


@given(template=st.sampled_from(TEMPLATES), value=st.text(min_size=1, max_size=60))
def test_no_customer_value_can_change_where_the_request_goes(template: str, value: str) -> None:
    parsed = parse_url_template(template)
    filled = parsed.fill(dict.fromkeys(parsed.names, value))
    assert filled is not None
    admin, ours = urlsplit(template), urlsplit(filled)
    assert (ours.scheme, ours.netloc) == (admin.scheme, admin.netloc)
    assert ours.fragment == ""
    static_path = admin.path.split("{")[0]
    url = httpx.URL(filled)  # as the client sends it, dot segments removed
    assert (url.scheme, url.host, url.port) == (admin.scheme, admin.hostname, admin.port)
    assert url.path.startswith(static_path)
    # The path keeps the template's number of segments, and the query its parameters.
    assert ours.path.count("/") == admin.path.count("/")
    assert ours.query.count("&") == admin.query.count("&")
    assert value in unquote(ours.path + "?" + ours.query)


@pytest.mark.parametrize("value", ["..", ".", "...", "../..", "%2e%2e", "a/../b"])
def test_dot_segments_in_a_value_cannot_climb_out_of_the_path(value: str) -> None:
    template = parse_url_template("https://crm.example.com/api/customers/{customer.id}/contract")
    filled = template.fill({"customer.id": value})
    assert filled is not None
    assert httpx.URL(filled).path.startswith("/api/customers/")
    assert httpx.URL(filled).path.endswith("/contract")


def test_a_placeholder_with_no_value_leaves_the_url_unfilled() -> None:
    template = parse_url_template("https://crm.example.com/{customer.email}/{customer.phone}")
    assert template.fill({"customer.email": "a@b.c"}) is None
    assert template.fill({"customer.email": "a@b.c", "customer.phone": ""}) is None
    assert template.missing({"customer.email": "a@b.c"}) == ["customer.phone"]


@pytest.mark.parametrize(
    "template",
    [
        "https://crm.example.com/{customer.id}#top",
        "https://crm.example.com/{customer}",
        "https://crm.example.com/{customer.attributes.}",
        "https://crm.example.com/{{customer.id}}",
        "https://crm.example.com/\x00",
        "mailto:someone@example.com",
        "https://crm.example.com/" + "a" * 2000,
    ],
)
def test_templates_that_are_not_plain_http_addresses_are_refused(template: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_url_template(template)
    assert refused.value.extra == {"field": "url_template"}


# --- paths -----------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text("abcxyz_", min_size=1, max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)


def _leaf_paths(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        found = []
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else key
            found += _leaf_paths(value, path)
        return found or [(prefix, data)]
    if isinstance(data, list):
        found = []
        for index, value in enumerate(data):
            found += _leaf_paths(value, f"{prefix}[{index}]")
        return found or [(prefix, data)]
    return [(prefix, data)]


@given(data=st.dictionaries(st.text("abcxyz_", min_size=1, max_size=3), JSON, min_size=1))
def test_every_value_in_an_answer_is_reached_by_its_path(data: dict[str, Any]) -> None:
    for path, value in _leaf_paths(data):
        assert parse_path(path).resolve(data) == value


@given(data=JSON, path=st.sampled_from(["a", "a.b", "a[0]", "[0].a", "a[-1].b[2]", "x.y.z"]))
def test_resolving_never_fails(data: Any, path: str) -> None:
    parse_path(path).resolve(data)


def test_a_missing_step_or_a_step_into_the_wrong_kind_is_missing() -> None:
    data = {"a": {"b": [1, 2]}, "s": "text"}
    assert parse_path("a.b[-1]").resolve(data) == 2
    assert parse_path("a.b[2]").resolve(data) is MISSING
    assert parse_path("a.c").resolve(data) is MISSING
    assert parse_path("s[0]").resolve(data) is MISSING
    assert parse_path("a.b.c").resolve(data) is MISSING
    assert parse_path("[0]").resolve([{"id": 1}]) == {"id": 1}


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a.", "[0]a", "a[x]", "a b", "a[]", "x" * 201])
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidInput):
        parse_path(path)


# --- values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fmt", "shown"),
    [
        ("2025-03-01", FieldFormat.DATE, ("2025-03-01", FieldFormat.DATE)),
        ("2025-03-01T23:30:00-05:00", FieldFormat.DATE, ("2025-03-01", FieldFormat.DATE)),
        ("1st of March", FieldFormat.DATE, ("1st of March", FieldFormat.TEXT)),
        (
            "2026-03-01T09:00:00+01:00",
            FieldFormat.DATETIME,
            ("2026-03-01T08:00:00Z", FieldFormat.DATETIME),
        ),
        (1767225600, FieldFormat.DATETIME, ("2026-01-01T00:00:00Z", FieldFormat.DATETIME)),
        ("2026-03-01T09:00:00", FieldFormat.DATETIME, ("2026-03-01T09:00:00", FieldFormat.TEXT)),
        ("12.90", FieldFormat.MONEY, (12.9, FieldFormat.MONEY)),
        (15, FieldFormat.MONEY, (15, FieldFormat.MONEY)),
        ("1e999999", FieldFormat.MONEY, ("1e999999", FieldFormat.TEXT)),
        (True, FieldFormat.MONEY, ("true", FieldFormat.TEXT)),
        ("free", FieldFormat.MONEY, ("free", FieldFormat.TEXT)),
        ({"a": [1]}, FieldFormat.TEXT, ('{"a":[1]}', FieldFormat.TEXT)),
        (3, FieldFormat.STATUS, ("3", FieldFormat.STATUS)),
        (None, FieldFormat.DATE, (None, FieldFormat.DATE)),
        (MISSING, FieldFormat.TEXT, (None, FieldFormat.TEXT)),
        ("x" * 600, FieldFormat.TEXT, ("x" * 500, FieldFormat.TEXT)),
    ],
)
def test_a_value_reads_as_its_format_or_else_as_text(
    raw: Any, fmt: FieldFormat, shown: tuple[Any, FieldFormat]
) -> None:
    assert read_value(raw, fmt) == shown


@given(raw=JSON, fmt=st.sampled_from(FieldFormat))
def test_any_answer_value_shows_as_a_json_scalar(raw: Any, fmt: FieldFormat) -> None:
    value, _ = read_value(raw, fmt)
    assert value is None or isinstance(value, str | int | float)
    json.dumps(value)


def test_fields_keep_the_mappings_order() -> None:
    specs = [
        FieldSpec({"en": "B"}, parse_path("b"), FieldFormat.MONEY, "EUR"),
        FieldSpec({"en": "A"}, parse_path("a")),
    ]
    assert read_fields({"a": "x", "b": "2"}, specs) == (
        (2, FieldFormat.MONEY),
        ("x", FieldFormat.TEXT),
    )


@pytest.mark.parametrize(
    ("locale", "label"),
    [
        ("fr", "Contrat"),
        ("fr_CA", "Contrat QC"),
        ("fr-BE", "Contrat"),
        ("de", "Contract"),
        ("EN", "Contract"),
    ],
)
def test_a_label_is_the_readers_else_english(locale: str, label: str) -> None:
    labels = {"en": "Contract", "fr": "Contrat", "fr-CA": "Contrat QC"}
    assert pick_label(labels, locale) == label


def test_a_customer_gives_their_first_verified_identity_of_each_kind_else_their_first() -> None:
    identities = [
        (IdentityKind.EMAIL, "old@example.com", False),
        (IdentityKind.EMAIL, "checked@example.com", True),
        (IdentityKind.EMAIL, "later@example.com", True),
        (IdentityKind.PHONE, "+33600000001", False),
        (IdentityKind.PHONE, "+33600000002", False),
        (IdentityKind.EXTERNAL, "CRM-7", False),
        (IdentityKind.MESSENGER, "psid", True),
    ]
    attributes = {"contract_no": "K-9", "vip": True, "score": 4.5, "gone": None, "list": [1]}
    assert customer_values(12, identities, attributes) == {
        "customer.id": "12",
        "customer.email": "checked@example.com",
        "customer.phone": "+33600000001",
        "customer.external_id": "CRM-7",
        "customer.attributes.contract_no": "K-9",
        "customer.attributes.vip": "true",
        "customer.attributes.score": "4.5",
    }


def test_statuses_read_from_the_http_status() -> None:
    assert status_of_answer(200) is ConnectorStatus.OK
    assert status_of_answer(204) is ConnectorStatus.OK
    assert status_of_answer(404) is ConnectorStatus.NOT_FOUND
    assert {status_of_answer(code) for code in (301, 401, 410, 500, 503)} == {ConnectorStatus.ERROR}


def test_a_scoped_connector_is_seen_by_its_sites_admins_and_users_of_no_site() -> None:
    def user(role: Role, site: int | None, granted: frozenset[int] = frozenset()) -> Principal:
        kind = SiteKind.PARTNER if site else None
        return Principal(1, role, site_id=site, site_kind=kind, granted_site_ids=granted)

    scoped = [2, 3]
    assert connector_visible([], user(Role.AGENT, 7))
    assert connector_visible(scoped, user(Role.AGENT, 2))
    assert connector_visible(scoped, user(Role.SUPERVISOR, 7, frozenset({3})))
    assert connector_visible(scoped, user(Role.ADMIN, 7))
    assert connector_visible(scoped, user(Role.AGENT, None))
    assert not connector_visible(scoped, user(Role.AGENT, 7))
    assert not connector_visible(scoped, user(Role.SUPERVISOR, 7, frozenset({8})))
