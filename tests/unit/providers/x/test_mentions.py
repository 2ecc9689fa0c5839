"""X mentions in our terms: one message per post, a thread held together by its
conversation, reposts and our own posts left out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from opencx.core.enums import Channel, IdentityKind
from opencx.providers import x
from opencx.providers.base import UnreadablePayload
from opencx.providers.rest import Page

from .recorded import body

OURS = "783214"
ROOT = "1875990001112223330"


def page(name: str = "mentions_page") -> Page:
    return x.parse_mentions(body(name), user_id=OURS, recipient="@AcmeSupport")


def test_each_mention_is_a_message_from_its_author() -> None:
    ids = [item.provider_message_id for item in page().items]
    assert ids == ["1876001112223334447", "1875995556667778880", ROOT]
    root = page().items[2]
    assert root.channel is Channel.TWITTER
    assert root.provider == "twitter"
    assert root.sender.kind is IdentityKind.TWITTER
    assert root.sender.value == "1029384756"
    assert root.sender.display_name == "Léa Dev"
    assert root.recipient == "@AcmeSupport"
    assert root.text == "@AcmeSupport my login fails with error 503"
    assert root.sent_at == datetime(2026, 1, 5, 7, 58, 44, tzinfo=UTC)


def test_the_text_is_read_with_its_entities_decoded() -> None:
    assert (
        page().items[0].text == "@AcmeSupport @lea_dev same here on Android & iOS, since yesterday"
    )


def test_a_reply_in_a_thread_refers_to_the_thread_and_the_post_it_answers() -> None:
    sam, lea, root = page().items
    assert sam.thread_refs == (ROOT, "1875995556667778880")
    assert lea.thread_refs == (ROOT,)
    assert root.thread_refs == ()


def test_username_conversation_and_link_are_kept_as_strings() -> None:
    sam = page().items[0]
    assert sam.metadata == {
        "username": "samr",
        "conversation_id": ROOT,
        "in_reply_to": "1875995556667778880",
        "in_reply_to_user_id": "1029384756",
        "lang": "en",
        "url": "https://x.com/samr/status/1876001112223334447",
    }


def test_reposts_and_our_own_posts_give_nothing() -> None:
    raw = json.loads(body("mentions_page"))
    raw["data"][0]["author_id"] = OURS
    read = x.parse_mentions(json.dumps(raw).encode(), user_id=OURS, recipient="@AcmeSupport")
    assert "1875994440001112225" not in [item.provider_message_id for item in read.items]
    assert "1876001112223334447" not in [item.provider_message_id for item in read.items]


def test_an_edited_post_refers_to_its_earlier_versions() -> None:
    raw = json.loads(body("mentions_page"))
    raw["data"][2]["edit_history_tweet_ids"] = ["1875990001112223331", "1875994440001112225"]
    raw["data"][2].pop("referenced_tweets")
    read = x.parse_mentions(json.dumps(raw).encode(), user_id=OURS, recipient="a")
    edited = next(i for i in read.items if i.provider_message_id == "1875994440001112225")
    assert "1875990001112223331" in edited.thread_refs


def test_the_page_names_the_newest_post_and_the_next_page() -> None:
    read = page()
    assert read.newest == "1876001112223334447"
    assert read.next_page == "7140dibdnow9c7btw4539n4vugsnr4vefrv1b4lmpgtot"
    empty = page("mentions_empty")
    assert empty.items == ()
    assert empty.newest is None
    assert empty.next_page is None


@pytest.mark.parametrize(
    "raw",
    [
        {"data": [{"id": "1", "text": "no author"}]},
        {"data": [{"id": "one", "author_id": "2"}]},
        {"data": [{"id": "1", "author_id": "2", "created_at": "soon"}]},
        {"data": [{"id": "1", "author_id": "2", "referenced_tweets": [{"type": "quoted"}]}]},
        {"data": [{"id": "1", "author_id": "2", "edit_history_tweet_ids": "1"}]},
        {"data": [], "meta": {"newest_id": "abc"}},
        {"data": {"id": "1"}},
    ],
)
def test_a_page_x_would_not_send_is_unreadable(raw: object) -> None:
    with pytest.raises(UnreadablePayload):
        x.parse_mentions(json.dumps(raw).encode(), user_id=OURS, recipient="a")


def test_the_request_asks_for_the_fields_and_expansions_we_read() -> None:
    request = x.mentions_request(user_id=OURS, access_token="user-token", since_id="17")
    assert request.method == "GET"
    assert request.url == f"https://api.x.com/2/users/{OURS}/mentions"
    assert request.params["since_id"] == "17"
    assert request.params["expansions"] == "author_id"
    assert set(request.params["tweet.fields"].split(",")) >= {
        "created_at",
        "author_id",
        "conversation_id",
        "in_reply_to_user_id",
        "lang",
        "referenced_tweets",
    }
    assert request.params["max_results"] == "100"
    assert "start_time" not in request.params
    assert request.headers == {"Authorization": "Bearer user-token"}


def test_a_first_poll_asks_from_a_start_time_and_a_later_page_by_its_token() -> None:
    start = datetime(2025, 12, 29, 9, 0, tzinfo=UTC)
    first = x.mentions_request(user_id=OURS, access_token="t", start_time=start)
    assert first.params["start_time"] == "2025-12-29T09:00:00Z"
    later = x.mentions_request(user_id=OURS, access_token="t", since_id="5", pagination_token="p")
    assert later.params["pagination_token"] == "p"
