"""A reply route reads back as it was stored, and its answer goes only to an address the
customer is confirmed by."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import Channel
from opencx.core.reply_routes import ReplyRoute

addresses = st.sampled_from(["ada@example.com", "a@example.net", "bob@example.org", ""])
texts = st.text(min_size=1, max_size=20)
routes = st.builds(
    ReplyRoute,
    channel=st.sampled_from(Channel),
    account_id=st.none() | st.integers(min_value=1, max_value=2**31),
    mailbox=st.none() | texts,
    sender=addresses,
    reply_to=st.lists(addresses.filter(bool), max_size=4).map(tuple),
    references=st.lists(texts, max_size=6).map(tuple),
    subject=st.none() | texts,
)


@given(routes)
def test_a_route_reads_back_as_stored_through_json(route: ReplyRoute) -> None:
    stored = json.loads(json.dumps(route.to_json()))
    assert ReplyRoute.of_json(stored) == route


@given(routes, st.lists(addresses.filter(bool), max_size=3))
def test_an_answer_goes_only_to_a_confirmed_address(
    route: ReplyRoute, confirmed: list[str]
) -> None:
    to = route.answer_to(confirmed)
    if confirmed:
        assert to in confirmed
        named = [a for a in (*route.reply_to, route.sender) if a in confirmed]
        assert to == (named[0] if named else confirmed[0])
    else:
        assert to is None


@given(routes)
def test_an_answer_answers_the_last_message_of_the_thread(route: ReplyRoute) -> None:
    assert route.in_reply_to == (route.references[-1] if route.references else None)


def test_a_damaged_route_reads_as_empty_fields_rather_than_failing() -> None:
    route = ReplyRoute.of_json(
        {"channel": "email", "account_id": "3", "reply_to": "a@example.com", "references": [1]}
    )
    assert route == ReplyRoute(Channel.EMAIL, None, None, "", (), (), None)
