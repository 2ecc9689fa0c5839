"""Routing keys for live connections, and the bus handing events only to those listening
on one of their keys: an agent's feed must still hear every event relevant to it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import PresenceState, Role
from opencx.core.events import DomainEvent, EventType
from opencx.core.live_routes import (
    ROUTING,
    agent_interests,
    chat_visitor_interests,
    event_routes,
    inbox_keys,
    inbox_views_touched,
)
from opencx.core.live_views import (
    AgentStatus,
    AgentView,
    OfferStatus,
    WorkItem,
    WorkState,
    apply,
    offer_json,
    relevant,
)
from opencx.core.permissions import Principal
from opencx.realtime.bus import InProcessBus

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ME = 1
VIEWER = Principal(user_id=ME, role=Role.AGENT)

_IDS = st.sampled_from([1, 2, 3, 5, 8])
_OPTIONAL_IDS = st.one_of(st.none(), _IDS)


def status(user_id: int = ME) -> AgentStatus:
    return AgentStatus(
        user_id=user_id,
        display_name="Agent",
        role=Role.AGENT,
        site_id=1,
        presence=PresenceState.AVAILABLE,
        reason=None,
        since=T0,
    )


@st.composite
def offers(draw: st.DrawFn, reservation_id: int) -> OfferStatus:
    return OfferStatus(
        reservation_id=reservation_id,
        task_id=draw(_IDS),
        interaction_id=draw(_OPTIONAL_IDS),
        conversation_id=draw(_OPTIONAL_IDS),
        channel="chat",
        queue_id=draw(_OPTIONAL_IDS),
        expires_at="2026-01-05T09:00:20+00:00",
        callback=False,
        customer_id=draw(_OPTIONAL_IDS),
    )


@st.composite
def work(draw: st.DrawFn, task_id: int) -> WorkItem:
    return WorkItem(
        task_id=task_id,
        interaction_id=draw(_OPTIONAL_IDS),
        conversation_id=draw(_OPTIONAL_IDS),
        channel="chat",
        queue_id=draw(_OPTIONAL_IDS),
        queue_name=None,
        customer_id=draw(_OPTIONAL_IDS),
        customer_name=None,
        subject=None,
        state=draw(st.sampled_from(list(WorkState))),
        since=T0,
    )


@st.composite
def agent_views(draw: st.DrawFn) -> AgentView:
    offer_ids = draw(st.sets(_IDS, max_size=3))
    task_ids = draw(st.sets(_IDS, max_size=3))
    return AgentView(
        me=status(),
        offers={r: draw(offers(r)) for r in offer_ids},
        conversations={t: draw(work(t)) for t in task_ids},
        help_pending=frozenset(draw(st.sets(_IDS, max_size=2))),
    )


_PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        "worker_id": _IDS,
        "agent_id": _IDS,
        "state": st.sampled_from(["pending", "accepted", "completed", "active", "wrap_up"]),
        "conversation_id": _IDS,
        "source_customer_id": _IDS,
        "mentions": st.lists(_IDS, max_size=2),
        "who": st.sampled_from(["visitor", "agent"]),
        "fields": st.lists(st.sampled_from(["subject", "display_name", "customer_id"])),
        "task_id": _IDS,
        "queue_id": _IDS,
        "accepted_at": st.just(T0.isoformat()),
    },
)
_EVENTS = st.builds(
    DomainEvent,
    type=st.sampled_from(list(EventType)),
    entity_kind=st.sampled_from(["user", "reservation", "interaction", "customer", "queue", "x"]),
    entity_id=_IDS,
    occurred_at=st.just(T0),
    payload=_PAYLOADS,
)


@given(view=agent_views(), event=_EVENTS)
def test_every_event_relevant_to_an_agent_shares_a_key_with_their_view(
    view: AgentView, event: DomainEvent
) -> None:
    if relevant(view, event, VIEWER):
        assert agent_interests(view) & set(event_routes(event))


_SERVED = st.one_of(st.none(), st.frozensets(_IDS))


@given(queues=_SERVED, event=_EVENTS)
def test_every_event_that_moves_an_inbox_reaches_the_desktops_following_it(
    queues: frozenset[int] | None, event: DomainEvent
) -> None:
    touched = inbox_views_touched(queues, event)
    if touched:
        assert inbox_keys(queues) & set(event_routes(event))
        assert touched == {"waiting", "team"}
    queue = event.payload.get("queue_id")
    if queues is not None and queue not in queues:
        assert not touched  # another queue's line is none of this desktop's business


def test_a_contact_entering_a_queue_moves_the_inbox_of_those_serving_it() -> None:
    step = DomainEvent(
        type=EventType.TASK_UPDATED,
        entity_kind="task",
        entity_id=4,
        occurred_at=T0,
        payload={"interaction_id": 9, "queue_id": 3},
    )
    assert inbox_views_touched(frozenset({3}), step) == {"waiting", "team"}
    assert inbox_views_touched(None, step) == {"waiting", "team"}
    assert inbox_views_touched(frozenset({2}), step) == frozenset()
    assert ("inbox", 3) in event_routes(step)


_OWN_RESERVATIONS = st.builds(
    DomainEvent,
    type=st.sampled_from([EventType.RESERVATION_CREATED, EventType.RESERVATION_UPDATED]),
    entity_kind=st.just("reservation"),
    entity_id=st.just(13),
    occurred_at=st.just(T0),
    payload=st.fixed_dictionaries(
        {
            "worker_id": st.just(ME),
            "state": st.sampled_from(["pending", "accepted", "completed"]),
            "accepted_at": st.just(T0.isoformat()),
        }
    ),
)


@given(view=agent_views(), event=st.one_of(_EVENTS, _OWN_RESERVATIONS), offer=offers(13))
def test_an_event_adds_no_key_beyond_those_it_announces(
    view: AgentView, event: DomainEvent, offer: OfferStatus
) -> None:
    """What the feed hears after an event is what it heard before plus what the bus
    added when it handed the event over (the offer's details match its event, as the
    server reads them)."""
    payload: dict[str, Any] = dict(event.payload)
    if event.type in (EventType.RESERVATION_CREATED, EventType.RESERVATION_UPDATED):
        event = DomainEvent(
            type=event.type,
            entity_kind="reservation",
            entity_id=offer.reservation_id,
            occurred_at=T0,
            payload={
                **payload,
                "task_id": offer.task_id,
                "interaction_id": offer.interaction_id,
                "conversation_id": offer.conversation_id,
                "queue_id": offer.queue_id,
                "customer_id": offer.customer_id,
            },
        )
    if not relevant(view, event, VIEWER):
        return
    after = apply(view, event, offer_json(offer))
    assert isinstance(after, AgentView)
    heard = set(agent_interests(view))
    for key, gained in event_routes(event).items():
        if key in heard:
            heard |= gained
    assert after.needs_resync or agent_interests(after) <= heard


def reservation(reservation_id: int, worker_id: int, **payload: Any) -> DomainEvent:
    return DomainEvent(
        type=EventType.RESERVATION_CREATED,
        entity_kind="reservation",
        entity_id=reservation_id,
        occurred_at=T0,
        payload={"worker_id": worker_id, "state": "pending", **payload},
    )


def message(conversation_id: int) -> DomainEvent:
    return DomainEvent(
        type=EventType.MESSAGE_CREATED,
        entity_kind="message",
        entity_id=conversation_id * 100,
        occurred_at=T0,
        payload={"conversation_id": conversation_id},
    )


def drain(queue: asyncio.Queue[DomainEvent | None]) -> list[DomainEvent | None]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def test_a_narrowed_subscriber_hears_only_its_keys_and_what_its_offers_announce() -> None:
    bus = InProcessBus()
    everything, mine, theirs = bus.subscribe(), bus.subscribe(), bus.subscribe()
    bus.listen_on(mine, {("user", 1)})
    bus.listen_on(theirs, {("user", 2)})
    offer = reservation(7, 1, conversation_id=40, queue_id=3, customer_id=9, interaction_id=5)
    bus.deliver_locally([message(40), offer, message(40), message(41)])
    # the offer announced conversation 40: the next message of it reaches the agent
    assert drain(mine) == [offer, message(40)]
    assert drain(theirs) == []
    assert len(drain(everything)) == 4
    assert bus.keys_of(mine) == {
        ("user", 1),
        ("conversation", 40),
        ("queue", 3),
        ("customer", 9),
        ("interaction", 5),
    }
    assert bus.keys_of(everything) is None
    bus.listen_on(mine, {("user", 1)})  # the offer went: listen on less again
    bus.deliver_locally([message(40)])
    assert drain(mine) == []
    bus.unsubscribe(mine)
    assert bus.keys_of(mine) is None
    assert bus.subscriber_count == 2


def test_a_narrowed_subscriber_that_falls_behind_is_dropped_and_told() -> None:
    bus = InProcessBus(max_queue=2)
    slow = bus.subscribe()
    bus.listen_on(slow, {("conversation", 40)})
    bus.deliver_locally([message(40), message(40), message(40), message(40)])
    assert drain(slow) == [None]
    bus.listen_on(slow, {("conversation", 40)})  # dropped: it must subscribe again
    bus.deliver_locally([message(40)])
    assert drain(slow) == []
    assert bus.subscriber_count == 0


def test_a_chat_visitor_hears_its_conversation_and_routing_steps() -> None:
    bus = InProcessBus()
    visitor = bus.subscribe()
    bus.listen_on(visitor, chat_visitor_interests(40))
    step = DomainEvent(
        type=EventType.TASK_CREATED, entity_kind="task", entity_id=1, occurred_at=T0, payload={}
    )
    bus.deliver_locally([message(41), step, message(40)])
    assert drain(visitor) == [step, message(40)]
    assert ROUTING in event_routes(step)
