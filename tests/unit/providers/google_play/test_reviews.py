"""Google Play reviews in our terms: one message per review version, its rating and
device details kept, the list read down to what an earlier poll saw."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from opencx.core.enums import Channel, IdentityKind
from opencx.providers import google_play
from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import Page

from .recorded import body

CAMILLE = (
    "gp:AOqpTOFmAVORqfWGcaqfF39ftwFjGkjecjvjXnC3g_uL0NtVGlrrqm8X2XUWx0WydH3C9afZlPUizYVZAfARLuk"
)
JANE = "gp:AOqpTOHq0Ue9UfJ3e2bH5x8zNnKmPpQqRrSsTtUuVvWwXxYyZz0123456789abcdefABCDEFghijkl"


def page(name: str = "reviews_page", since: str | None = None) -> Page:
    return google_play.parse_reviews(body(name), recipient="com.example.notes", since=since)


def test_each_review_is_a_message_with_its_author_text_and_date() -> None:
    camille, jane = page().items
    assert camille.channel is Channel.REVIEW
    assert camille.provider == "google_play"
    assert camille.provider_message_id == f"{CAMILLE}@1767599100"
    assert camille.sender.kind is IdentityKind.EXTERNAL
    assert camille.sender.value == f"google_play:{CAMILLE}"
    assert camille.sender.display_name == "Camille Martin"
    assert camille.recipient == "com.example.notes"
    assert camille.sent_at == datetime(2026, 1, 5, 7, 45, 0, 512000, tzinfo=UTC)
    assert jane.text == "This is the best app ever!"
    assert jane.subject is None


def test_a_title_written_apart_becomes_the_subject() -> None:
    camille = page().items[0]
    assert camille.subject == "Plante au démarrage"
    assert camille.text.startswith("Depuis la mise à jour, l'application se ferme")


def test_rating_language_version_and_device_are_kept_as_strings() -> None:
    camille, jane = page().items
    assert camille.metadata == {
        "review_id": CAMILLE,
        "rating": "2",
        "language": "fr",
        "app_version": "4.12.0",
        "app_version_code": "4120",
        "android_version": "34",
        "device": "a52q",
        "device_model": "a52q (Galaxy A52)",
        "device_manufacturer": "Samsung",
    }
    assert jane.metadata["rating"] == "5"
    assert jane.metadata["language"] == "en"


def test_a_published_developer_reply_is_kept_with_the_review() -> None:
    jane = page().items[1]
    assert jane.metadata["developer_reply"] == "Thank you, Jane! Glad you like it."
    assert jane.metadata["developer_reply_at"] == "2026-01-04T21:10:00+00:00"


def test_the_page_names_the_next_one_and_its_newest_date() -> None:
    read = page()
    assert read.next_page is not None
    assert read.next_page.startswith("CkUKQAo")
    assert read.newest == datetime(2026, 1, 5, 7, 45, 0, 512000, tzinfo=UTC).isoformat()
    last = page("reviews_last_page")
    assert last.next_page is None
    assert [item.metadata["rating"] for item in last.items] == ["3"]


def test_reviews_older_than_the_last_poll_are_left_out_and_end_the_list() -> None:
    read = page(since="2026-01-05T00:00:00+00:00")
    assert [item.sender.display_name for item in read.items] == ["Camille Martin"]
    assert read.next_page is None  # older reviews follow: the list is done
    assert read.newest is not None


def test_the_review_seen_last_time_is_read_again_and_not_lost() -> None:
    """Equal dates are kept: storing is idempotent, skipping one would lose it."""
    read = page(since=datetime(2026, 1, 5, 7, 45, 0, 512000, tzinfo=UTC).isoformat())
    assert [item.sender.display_name for item in read.items] == ["Camille Martin"]


def test_an_edited_review_is_a_new_message_from_the_same_author() -> None:
    original = json.loads(body("reviews_page"))
    edited = json.loads(body("reviews_page"))
    comment = edited["reviews"][0]["comments"][0]["userComment"]
    comment.update(text="Corrigé avec la 4.12.1, merci !", starRating=5)
    comment["lastModified"] = {"seconds": "1767610000", "nanos": 0}
    before = google_play.parse_reviews(
        json.dumps(original).encode(), recipient="com.example.notes", since=None
    ).items[0]
    after = google_play.parse_reviews(
        json.dumps(edited).encode(), recipient="com.example.notes", since=None
    ).items[0]
    assert after.provider_message_id == f"{CAMILLE}@1767610000"
    assert after.provider_message_id != before.provider_message_id
    assert after.sender == before.sender
    assert after.metadata["rating"] == "5"
    assert after.subject is None


def test_a_review_without_a_user_comment_gives_nothing() -> None:
    raw = {"reviews": [{"reviewId": "gp:x", "comments": [{"developerComment": {"text": "hi"}}]}]}
    assert (
        google_play.parse_reviews(json.dumps(raw).encode(), recipient="a", since=None).items == ()
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"reviews": [{"authorName": "no id", "comments": []}]},
        {"reviews": [{"reviewId": "gp:1", "comments": [{"userComment": {"text": "no date"}}]}]},
        {"reviews": [{"reviewId": "gp:1", "comments": [{"userComment": {"lastModified": {}}}]}]},
        {
            "reviews": [
                {
                    "reviewId": "x" * 300,
                    "comments": [{"userComment": {"lastModified": {"seconds": "1"}}}],
                }
            ]
        },
        {"reviews": {"reviewId": "gp:1"}},
        {
            "reviews": [
                {
                    "reviewId": "gp:1",
                    "comments": [
                        {"userComment": {"lastModified": {"seconds": "1"}, "starRating": "five"}}
                    ],
                }
            ]
        },
    ],
)
def test_a_page_google_would_not_send_is_unreadable(raw: object) -> None:
    with pytest.raises(UnreadablePayload):
        google_play.parse_reviews(json.dumps(raw).encode(), recipient="a", since=None)


def test_the_list_request_names_the_app_the_page_and_the_token() -> None:
    request = google_play.reviews_request(
        package_name="com.example.notes", access_token="ya29.token", page_token="CkUK"
    )
    assert request.method == "GET"
    assert request.url == (
        "https://androidpublisher.googleapis.com/androidpublisher/v3/applications/"
        "com.example.notes/reviews"
    )
    assert request.params == {"maxResults": "100", "token": "CkUK"}
    assert request.headers == {"Authorization": "Bearer ya29.token"}
    assert "ya29.token" not in repr(request)
