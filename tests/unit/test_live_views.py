"""Live views' reducers, relevance rules and snapshot marks, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from opencx.core.enums import PresenceState, Role, SiteKind
from opencx.core.events import DomainEvent, EventType
from opencx.core.live_views import (
    AgentStatus,
    AgentView,
    OfferStatus,
    SiteStatus,
    SnapshotMark,
    SupervisorView,
    answer_client,
    apply,
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
    assert after.sites[1] == SiteStatus(1, "Lyon", SiteKind.INTERNAL, is_open=False)
    renamed = apply(after, site_event(1, action="site.update", name="Lyon 2", kind="partner"))
    assert isinstance(renamed, SupervisorView)
    assert renamed.sites[1] == SiteStatus(1, "Lyon 2", SiteKind.PARTNER, is_open=False)


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


def test_user_events_ask_for_a_resync_only_when_shown_fields_change() -> None:
    view = supervisor_view()
    created = user_event(EventType.USER_CREATED, 7, 1, role="agent")
    assert apply(view, created).needs_resync
    renamed = user_event(EventType.USER_UPDATED, 1, 1, fields=["display_name"])
    assert apply(view, renamed).needs_resync
    languages = user_event(EventType.USER_UPDATED, 1, 1, fields=["languages"])
    assert apply(view, languages) == view
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
    }
    assert data["sites"][1] == {"id": 2, "name": "Dakar", "kind": "partner", "is_open": True}
    assert view_json(AgentView(me=agent(1)))["presence"] == "offline"


def test_client_messages_get_pong_or_an_error() -> None:
    assert answer_client({"type": "ping"}) == {"type": "pong"}
    assert answer_client({"type": "subscribe"})["type"] == "error"
    assert answer_client(None)["code"] == "opencx.invalid_input"
