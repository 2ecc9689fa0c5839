"""App Store customer reviews in our terms: one message per review, with its rating
and territory; pages followed through ``links.next``, on Apple's origin only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from opencx.core.enums import Channel, IdentityKind
from opencx.providers import app_store
from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import Page

from .recorded import body

LOST = "00000070-3c5e-0043-b6f2-3e1a00000000"
DARK = "00000028-b08c-0014-729e-fbd500000000"


def page(since: str | None = None, api_base: str | None = None) -> Page:
    return app_store.parse_reviews(
        body("customer_reviews_page"), recipient="682658836", since=since, api_base=api_base
    )


def test_each_review_is_a_message_with_its_title_body_and_date() -> None:
    lost, dark = page().items
    assert lost.channel is Channel.REVIEW
    assert lost.provider == "app_store"
    assert lost.provider_message_id == LOST
    assert lost.sender.kind is IdentityKind.EXTERNAL
    assert lost.sender.value == f"app_store:{LOST}"
    assert lost.sender.display_name == "notetaker42"
    assert lost.recipient == "682658836"
    assert lost.subject == "Lost my data"
    assert lost.text == "After the last update all my notes are gone. Please help!"
    assert lost.sent_at == datetime(2026, 1, 5, 16, 30, 12, tzinfo=UTC)
    assert dark.sent_at == datetime(2026, 1, 4, 18, 2, 44, tzinfo=UTC)


def test_rating_and_territory_are_kept_as_strings() -> None:
    lost, dark = page().items
    assert lost.metadata == {"review_id": LOST, "rating": "1", "territory": "USA"}
    assert dark.metadata == {"review_id": DARK, "rating": "4", "territory": "FRA"}


def test_the_next_page_is_the_link_apple_gave() -> None:
    read = page()
    assert read.next_page == (
        "https://api.appstoreconnect.apple.com/v1/apps/682658836/customerReviews"
        "?cursor=Mg.ANZ8gVo&sort=-createdDate&limit=2"
    )
    assert read.newest == "2026-01-05T16:30:12+00:00"


def test_reviews_older_than_the_last_poll_are_left_out_and_end_the_list() -> None:
    read = page(since="2026-01-05T00:00:00+00:00")
    assert [item.provider_message_id for item in read.items] == [LOST]
    assert read.next_page is None


def test_a_next_link_off_apples_origin_is_refused() -> None:
    """The bearer token goes with the request: it must not leave for another host."""
    with pytest.raises(UnreadablePayload, match="leaves"):
        page(api_base="http://127.0.0.1:8080")


def test_other_resource_types_are_skipped() -> None:
    raw = {"data": [{"type": "apps", "id": "1"}], "links": {}}
    read = app_store.parse_reviews(json.dumps(raw).encode(), recipient="1", since=None)
    assert read.items == ()
    assert read.next_page is None
    assert read.newest is None


@pytest.mark.parametrize(
    "raw",
    [
        {"data": [{"type": "customerReviews", "attributes": {}}]},
        {"data": [{"type": "customerReviews", "id": "1", "attributes": {}}]},
        {
            "data": [
                {
                    "type": "customerReviews",
                    "id": "1",
                    "attributes": {"createdDate": "2026-01-05T08:30:12"},
                }
            ]
        },
        {
            "data": [
                {"type": "customerReviews", "id": "1", "attributes": {"createdDate": "yesterday"}}
            ]
        },
        {"data": {"type": "customerReviews"}},
        {"data": [], "links": {"next": 3}},
    ],
)
def test_a_page_apple_would_not_send_is_unreadable(raw: object) -> None:
    with pytest.raises(UnreadablePayload):
        app_store.parse_reviews(json.dumps(raw).encode(), recipient="1", since=None)


def test_the_first_page_is_sorted_newest_first_and_later_ones_follow_the_link() -> None:
    first = app_store.reviews_request(app_id="682658836", token="eyJ.jwt")
    assert first.method == "GET"
    assert first.url == "https://api.appstoreconnect.apple.com/v1/apps/682658836/customerReviews"
    assert first.params == {"sort": "-createdDate", "limit": "100"}
    assert first.headers == {"Authorization": "Bearer eyJ.jwt"}
    later = app_store.reviews_request(app_id="682658836", token="t", next_url="https://x/y?c=1")
    assert later.url == "https://x/y?c=1"
    assert later.params == {}
