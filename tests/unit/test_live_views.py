"""Live views' reducers, relevance rules and snapshot marks, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import PresenceState, Role, SiteKind
from opencx.core.events import DomainEvent, EventType
from opencx.core.live_views import (
    AgentStatus,
    AgentView,
    HelpRequestStatus,
    OfferStatus,
    SiteStatus,
    SnapshotMark,
    SupervisorView,
    View,
    WorkState,
    answer_client,
    apply,
    needs_details,
    offer_json,
    relevant,
    view_json,
)
from opencx.core.permissions import Principal

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
INTERNAL_SUPERVISOR = Principal(user_id=100, role=Role.SUPERVISOR, site_id=1)
PARTNER_SUPERVISOR = Principal(
    user_id=101, role=Role.SUPERVISOR, site_id=2, site_kind=SiteKind.PARTNER
)


def agent(user_id: int, site_id: int | None = 1, **changes: Any) -> AgentStatus:
    base = AgentStatus(
        user_id=user_id,
        display_name=f"Agent {user_id}",
        role=Role.AGENT,
        site_id=site_id,
        presence=PresenceState.OFFLINE,
        reason=None,
        since=T0,
    )
    return replace(base, **changes)


def supervisor_view() -> SupervisorView:
    return SupervisorView(
        agents={1: agent(1, site_id=1), 2: agent(2, site_id=2)},
        sites={
            1: SiteStatus(1, "Lyon", SiteKind.INTERNAL, is_open=True),
            2: SiteStatus(2, "Dakar", SiteKind.PARTNER, is_open=True),
        },
    )


def presence_event(
    user_id: int, state: str, *, reason: str | None = None, site_id: int | None = 1, at: int = 60
) -> DomainEvent:
    since = T0 + timedelta(seconds=at)
    return DomainEvent(
        type=EventType.AGENT_PRESENCE_CHANGED,
        entity_kind="user",
        entity_id=user_id,
        occurred_at=since,
        payload={
            "presence": state,
            "reason": reason,
            "since": since.isoformat(),
            "previous": "offline",
        },
        site_id=site_id,
    )


def site_event(site_id: int, **payload: str) -> DomainEvent:
    return DomainEvent(
        type=EventType.SITE_CHANGED,
        entity_kind="site",
        entity_id=site_id,
        occurred_at=T0,
        payload=payload,
        site_id=site_id,
    )


def user_event(type_: EventType, user_id: int, site_id: int | None, **payload: Any) -> DomainEvent:
    return DomainEvent(
        type=type_,
        entity_kind="user",
        entity_id=user_id,
        occurred_at=T0,
        payload=payload,
        site_id=site_id,
    )


def test_presence_event_updates_the_agent_and_nothing_else() -> None:
    view = supervisor_view()
    after = apply(view, presence_event(1, "not_ready", reason="break"))
    assert isinstance(after, SupervisorView)
    assert after.agents[1].presence is PresenceState.NOT_READY
    assert after.agents[1].reason == "break"
    assert after.agents[1].since == T0 + timedelta(seconds=60)
    assert after.agents[2] == view.agents[2]
    assert view.agents[1].presence is PresenceState.OFFLINE  # the old view is untouched


def test_presence_since_is_normalised_to_utc() -> None:
    event = presence_event(1, "available")
    paris = (T0 + timedelta(seconds=60)).astimezone(timezone(timedelta(hours=1)))
    event = replace(event, payload={**event.payload, "since": paris.isoformat()})
    after = apply(supervisor_view(), event)
    assert isinstance(after, SupervisorView)
    assert view_json(after)["agents"][0]["since"] == "2026-01-05T09:01:00+00:00"


def test_a_late_older_presence_event_is_ignored() -> None:
    newer = replace(presence_event(1, "not_ready", reason="lunch", at=90), id=12)
    older = replace(presence_event(1, "available", at=60), id=11)  # from a slower node
    view = apply(apply(supervisor_view(), newer), older)
    assert isinstance(view, SupervisorView)
    assert (view.agents[1].presence, view.agents[1].reason) == (PresenceState.NOT_READY, "lunch")
    mine = apply(apply(AgentView(me=agent(1)), newer), older)
    assert isinstance(mine, AgentView)
    assert mine.me.reason == "lunch"
    # The bookkeeping does not make equal views differ.
    assert replace(agent(1), event_id=12) == agent(1)


@pytest.mark.parametrize(
    "payload",
    [
        {"presence": "dancing", "since": T0.isoformat()},
        {"presence": "available"},
        {"presence": "available", "since": "2026-01-05T09:00:00"},  # no offset
        {"presence": "available", "since": T0.isoformat(), "reason": 3},
    ],
)
def test_malformed_presence_asks_for_a_resync(payload: dict[str, Any]) -> None:
    event = DomainEvent(
        type=EventType.AGENT_PRESENCE_CHANGED,
        entity_kind="user",
        entity_id=1,
        occurred_at=T0,
        payload=payload,
        site_id=1,
    )
    assert apply(supervisor_view(), event).needs_resync


def test_site_update_reads_fields_from_the_payload_strings() -> None:
    after = apply(supervisor_view(), site_event(1, action="site.update", is_open="False"))
    assert isinstance(after, SupervisorView)
    closed = SiteStatus(1, "Lyon", SiteKind.INTERNAL, is_open=False, routing_state="closed")
    assert after.sites[1] == closed
    renamed = apply(after, site_event(1, action="site.update", name="Lyon 2", kind="partner"))
    assert isinstance(renamed, SupervisorView)
    assert renamed.sites[1] == replace(closed, name="Lyon 2", kind=SiteKind.PARTNER)


def test_site_creation_adds_an_open_site() -> None:
    event = site_event(3, action="site.create", name="Porto", kind="partner", timezone="UTC")
    after = apply(supervisor_view(), event)
    assert isinstance(after, SupervisorView)
    assert after.sites[3] == SiteStatus(3, "Porto", SiteKind.PARTNER, is_open=True)


def test_unknown_site_or_bad_value_asks_for_a_resync() -> None:
    assert apply(supervisor_view(), site_event(9, action="site.update", name="X")).needs_resync
    assert apply(
        supervisor_view(), site_event(1, action="site.update", is_open="maybe")
    ).needs_resync


def test_user_events_ask_for_a_resync_only_when_shown_fields_or_memberships_change() -> None:
    view = supervisor_view()
    created = user_event(EventType.USER_CREATED, 7, 1, role="agent")
    assert apply(view, created).needs_resync
    renamed = user_event(EventType.USER_UPDATED, 1, 1, fields=["display_name"])
    assert apply(view, renamed).needs_resync
    timezone = user_event(EventType.USER_UPDATED, 1, 1, fields=["timezone", "locale"])
    assert apply(view, timezone) == view
    for field in ("skills", "capacity", "languages", "team_id"):
        # routing's queue memberships read them: the queues' members may change
        changed = user_event(EventType.USER_UPDATED, 1, 1, fields=[field])
        assert apply(view, changed).needs_resync, field
    unspecified = user_event(EventType.USER_UPDATED, 1, 1)
    assert apply(view, unspecified).needs_resync


def test_an_agent_hears_of_the_files_of_a_conversation_offered_to_them() -> None:
    offer = OfferStatus(
        reservation_id=5,
        task_id=6,
        interaction_id=7,
        conversation_id=8,
        channel="sms",
        queue_id=1,
        expires_at="2026-01-05T09:01:00+00:00",
        callback=False,
    )
    view = AgentView(me=agent(1), offers={5: offer})
    viewer = Principal(user_id=1, role=Role.AGENT)

    def changed(conversation_id: int) -> DomainEvent:
        return DomainEvent(
            type=EventType.MESSAGE_ATTACHMENT_CHANGED,
            entity_kind="message",
            entity_id=9,
            occurred_at=T0,
            payload={"conversation_id": conversation_id, "attachment_id": 3, "status": "stored"},
        )

    assert relevant(view, changed(8), viewer)
    assert apply(view, changed(8)) == view
    assert not relevant(view, changed(4), viewer)
    assert not relevant(AgentView(me=agent(1)), changed(8), viewer)


def test_agent_view_follows_only_its_own_user() -> None:
    view = AgentView(me=agent(1))
    mine = presence_event(1, "available")
    theirs = presence_event(2, "available")
    assert relevant(view, mine, Principal(user_id=1, role=Role.AGENT))
    assert not relevant(view, theirs, Principal(user_id=1, role=Role.AGENT))
    after = apply(view, mine)
    assert isinstance(after, AgentView)
    assert after.me.presence is PresenceState.AVAILABLE
    assert apply(view, theirs) == view
    assert apply(view, user_event(EventType.USER_UPDATED, 1, 1, fields=["role"])).needs_resync


def test_partner_supervisor_gets_only_visible_sites_and_their_agents() -> None:
    view = SupervisorView(
        agents={2: agent(2, site_id=2)}, sites={2: SiteStatus(2, "Dakar", SiteKind.PARTNER, True)}
    )
    viewer = PARTNER_SUPERVISOR
    assert relevant(view, presence_event(2, "available", site_id=2), viewer)
    assert not relevant(view, presence_event(1, "available", site_id=1), viewer)
    assert relevant(view, site_event(2, action="site.update", name="D"), viewer)
    assert not relevant(view, site_event(1, action="site.update", name="L"), viewer)
    assert relevant(view, user_event(EventType.USER_CREATED, 8, 2, role="agent"), viewer)
    assert not relevant(view, user_event(EventType.USER_CREATED, 8, 1, role="agent"), viewer)
    assert not relevant(view, user_event(EventType.USER_CREATED, 8, None, role="agent"), viewer)
    # An agent moved away from the partner's site is still news to that partner.
    moved = user_event(EventType.USER_UPDATED, 2, 1, fields=["site_id"])
    assert relevant(view, moved, viewer)


def test_internal_supervisor_ignores_admins_and_unrelated_events() -> None:
    view = supervisor_view()
    viewer = INTERNAL_SUPERVISOR
    assert not relevant(view, user_event(EventType.USER_CREATED, 9, 1, role="admin"), viewer)
    assert relevant(view, user_event(EventType.USER_CREATED, 9, None, role="supervisor"), viewer)
    assert not relevant(view, presence_event(9, "available"), viewer)  # not on the view
    other = DomainEvent(
        type=EventType.CUSTOMER_CREATED, entity_kind="customer", entity_id=1, occurred_at=T0
    )
    assert not relevant(view, other, viewer)
    assert apply(view, other) == view


def test_snapshot_mark_covers_committed_ids_only() -> None:
    mark = SnapshotMark(10, frozenset({8}))
    assert mark.covers(1)
    assert mark.covers(10)
    assert not mark.covers(8)  # was not committed when the snapshot was read
    assert not mark.covers(11)


def test_view_json_is_sorted_and_plain() -> None:
    data = view_json(supervisor_view())
    assert [a["user_id"] for a in data["agents"]] == [1, 2]
    assert data["agents"][0] == {
        "user_id": 1,
        "display_name": "Agent 1",
        "role": "agent",
        "site_id": 1,
        "presence": "offline",
        "reason": None,
        "since": "2026-01-05T09:00:00+00:00",
        "contacts": [],
    }
    assert data["sites"][1] == {
        "id": 2,
        "name": "Dakar",
        "kind": "partner",
        "is_open": True,
        "state": "open",
    }
    assert view_json(AgentView(me=agent(1)))["presence"] == "offline"


def test_client_messages_get_pong_or_an_error() -> None:
    assert answer_client({"type": "ping"}) == {"type": "pong"}
    assert answer_client({"type": "subscribe"})["type"] == "error"
    assert answer_client(None)["code"] == "opencx.invalid_input"


# --- the agent's work in hand, and help requests --------------------------------------

AGENT = Principal(user_id=1, role=Role.AGENT)


def offered(reservation_id: int = 5, task_id: int = 6, **changes: Any) -> OfferStatus:
    base = OfferStatus(
        reservation_id=reservation_id,
        task_id=task_id,
        interaction_id=task_id + 1,
        conversation_id=task_id + 2,
        channel="chat",
        queue_id=3,
        expires_at="2026-01-05T09:00:20+00:00",
        callback=False,
        customer_id=40,
        customer_name="Ada",
        queue_name="Billing",
        waiting_since="2026-01-05T08:59:00+00:00",
        subject="Parcel",
    )
    return replace(base, **changes)


def event(type_: EventType, entity_id: int, entity_kind: str = "x", **payload: Any) -> DomainEvent:
    return DomainEvent(
        type=type_, entity_kind=entity_kind, entity_id=entity_id, occurred_at=T0, payload=payload
    )


def reservation(reservation_id: int, state: str, **payload: Any) -> DomainEvent:
    created = EventType.RESERVATION_CREATED if state == "pending" else EventType.RESERVATION_UPDATED
    return event(created, reservation_id, "reservation", worker_id=1, state=state, **payload)


def moved(interaction_id: int, state: str, **payload: Any) -> DomainEvent:
    return event(
        EventType.INTERACTION_STATE_CHANGED, interaction_id, "interaction", state=state, **payload
    )


def test_an_offer_needs_its_details_and_asks_for_a_resync_without_them() -> None:
    view = AgentView(me=agent(1))
    new = reservation(5, "pending", task_id=6)
    assert relevant(view, new, AGENT)
    assert needs_details(view, new)
    assert apply(view, new).needs_resync
    details = offer_json(offered())
    after = apply(view, new, details)
    assert isinstance(after, AgentView)
    assert after.offers == {5: offered()}
    assert view_json(after)["offers"] == [details]
    someone_else = event(EventType.RESERVATION_CREATED, 9, worker_id=2, state="pending")
    assert not relevant(view, someone_else, AGENT)
    assert not needs_details(view, reservation(5, "accepted"))


def test_an_accepted_offer_becomes_work_that_follows_its_interaction() -> None:
    view: View = AgentView(me=agent(1), offers={5: offered()})
    accepted_at = (T0 + timedelta(seconds=5)).isoformat()
    view = apply(view, reservation(5, "accepted", task_id=6, accepted_at=accepted_at))
    assert isinstance(view, AgentView)
    assert view.offers == {}
    item = view.conversations[6]
    assert (item.state, item.since, item.customer_name) == (
        WorkState.ACTIVE,
        T0 + timedelta(seconds=5),
        "Ada",
    )
    view = apply(view, moved(7, "held"))
    assert isinstance(view, AgentView)
    assert view.conversations[6].state is WorkState.HELD
    until = (T0 + timedelta(seconds=60)).isoformat()
    view = apply(view, moved(7, "wrap_up", wrap_up_until=until))
    view = apply(view, reservation(5, "completed", task_id=6))  # stays: wrapping up
    assert isinstance(view, AgentView)
    assert view_json(view)["conversations"][0]["wrap_up_until"] == until
    view = apply(view, moved(7, "ended"))
    assert isinstance(view, AgentView)
    assert view.conversations == {}


def test_work_handed_on_or_completed_without_a_move_leaves_the_view() -> None:
    start = apply(
        AgentView(me=agent(1), offers={5: offered()}),
        reservation(5, "accepted", task_id=6, accepted_at=T0.isoformat()),
    )
    assert isinstance(start, AgentView)
    transferred = apply(start, moved(7, "queued"))
    assert isinstance(transferred, AgentView)
    assert transferred.conversations == {}
    # An interaction over already does not move: the completed reservation says it.
    completed = apply(start, reservation(5, "completed", task_id=6))
    assert isinstance(completed, AgentView)
    assert completed.conversations == {}
    # An accept the view never saw offered cannot be shown: resync.
    unknown = reservation(8, "accepted", task_id=9, accepted_at=T0.isoformat())
    assert apply(start, unknown).needs_resync


def test_news_of_followed_conversations_pass_through_and_renames_resync() -> None:
    view = AgentView(me=agent(1), offers={5: offered()})
    followed = offered().conversation_id
    for news in (
        event(EventType.MESSAGE_CREATED, 1, conversation_id=followed),
        event(EventType.MESSAGE_DELIVERY_CHANGED, 1, conversation_id=followed),
        event(EventType.CHAT_TYPING, followed, conversation_id=followed, who="visitor"),
        event(EventType.NOTE_CREATED, 1, conversation_id=followed, mentions=[]),
        event(EventType.NOTE_CREATED, 1, conversation_id=99, mentions=[1]),
    ):
        assert relevant(view, news, AGENT), news
        assert apply(view, news) == view
    for noise in (
        event(EventType.MESSAGE_CREATED, 1, conversation_id=99),
        event(EventType.CHAT_TYPING, followed, conversation_id=followed, who="agent"),
        event(EventType.NOTE_CREATED, 1, conversation_id=99, mentions=[2]),
        event(EventType.CUSTOMER_UPDATED, 40, "customer", fields=["segment"]),
        event(EventType.CUSTOMER_UPDATED, 41, "customer", fields=["display_name"]),
        event(
            EventType.CONVERSATION_UPDATED, followed, conversation_id=followed, fields=["priority"]
        ),
    ):
        assert not relevant(view, noise, AGENT), noise
        assert apply(view, noise) == view
    for reshaping in (
        event(EventType.CUSTOMER_UPDATED, 40, "customer", fields=["display_name"]),
        event(EventType.IDENTITY_ADDED, 40, "customer"),
        event(EventType.CUSTOMER_MERGED, 77, "customer", source_customer_id=40),
        event(
            EventType.CONVERSATION_UPDATED, followed, conversation_id=followed, fields=["subject"]
        ),
        event(
            EventType.CONVERSATION_STATUS_CHANGED, followed, conversation_id=followed, merged_into=3
        ),
        event(EventType.QUEUE_CHANGED, 3, "queue", kind="queue", action="update"),
    ):
        assert relevant(view, reshaping, AGENT), reshaping
        assert apply(view, reshaping).needs_resync


def test_help_requests_wait_for_their_answer() -> None:
    view = AgentView(me=agent(1))
    asked = event(EventType.HELP_REQUESTED, 12, "help_request", agent_id=1, conversation_id=3)
    after = apply(view, asked)
    assert isinstance(after, AgentView)
    assert view_json(after)["help_answers_pending"] == [12]
    answered = event(EventType.HELP_ANSWERED, 12, "help_request", agent_id=1, conversation_id=3)
    assert apply(after, answered) == view
    theirs = event(EventType.HELP_REQUESTED, 13, "help_request", agent_id=2, conversation_id=3)
    assert not relevant(view, theirs, AGENT)


def help_requested(request_id: int, site_id: int | None) -> DomainEvent:
    return replace(
        event(EventType.HELP_REQUESTED, request_id, "help_request", agent_id=1, conversation_id=3),
        site_id=site_id,
    )


def test_supervisors_see_the_help_requests_of_their_sites() -> None:
    view = supervisor_view()
    asked = help_requested(12, site_id=2)
    assert relevant(view, asked, PARTNER_SUPERVISOR)
    assert not relevant(view, help_requested(13, site_id=1), PARTNER_SUPERVISOR)
    assert relevant(view, help_requested(13, site_id=None), INTERNAL_SUPERVISOR)
    assert needs_details(view, asked)
    assert apply(view, asked).needs_resync  # the question is in no event
    details = {
        "id": 12,
        "conversation_id": 3,
        "agent_id": 1,
        "site_id": 2,
        "question": "Refund twice?",
        "created_at": T0.isoformat(),
    }
    after = apply(view, asked, details)
    assert isinstance(after, SupervisorView)
    assert view_json(after)["help_requests"] == [details]
    assert after.help_requests[12] == HelpRequestStatus(12, 3, 1, 2, "Refund twice?", T0)
    answered = replace(asked, type=EventType.HELP_ANSWERED)
    assert relevant(after, answered, PARTNER_SUPERVISOR)
    assert apply(after, answered) == view
    assert apply(view, asked, {**details, "question": None}).needs_resync


_TYPES = st.sampled_from(list(EventType))
_PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        "worker_id": st.sampled_from([1, 2]),
        "agent_id": st.sampled_from([1, 2]),
        "state": st.sampled_from(["pending", "accepted", "completed", "held", "ended"]),
        "conversation_id": st.sampled_from([8, 9, 99]),
        "mentions": st.lists(st.sampled_from([1, 2]), max_size=2),
        "who": st.sampled_from(["visitor", "agent"]),
        "fields": st.lists(st.sampled_from(["subject", "display_name", "priority"]), max_size=2),
        "task_id": st.sampled_from([6, 7]),
    },
)


@given(type_=_TYPES, entity_id=st.sampled_from([1, 5, 7, 12, 40]), payload=_PAYLOADS)
def test_an_event_the_agent_is_not_sent_leaves_their_view_as_it_was(
    type_: EventType, entity_id: int, payload: dict[str, Any]
) -> None:
    view = apply(
        AgentView(me=agent(1), offers={5: offered()}, help_pending=frozenset({12})),
        reservation(5, "accepted", task_id=6, accepted_at=T0.isoformat()),
    )
    assert isinstance(view, AgentView)
    happened = DomainEvent(
        type=type_, entity_kind="x", entity_id=entity_id, occurred_at=T0, payload=payload
    )
    if not relevant(view, happened, AGENT):
        assert apply(view, happened, offer_json(offered(reservation_id=entity_id))) == view
