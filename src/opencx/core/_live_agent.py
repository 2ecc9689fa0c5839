"""An agent's live view: their presence, the offers waiting for their answer, the work
in hand (``conversations``) and their help requests not answered yet.

Rules (beside those of ``live_views``):
- an offer comes from ``reservation.created`` together with the ``details`` the server
  read for it (customer, queue, subject, transfer note: names and text that no event
  carries); without them the view asks for a resync;
- an accepted offer becomes a work item, ``active`` since the payload's
  ``accepted_at``; ``interaction.state_changed`` moves it (``held``, ``active``,
  ``wrap_up`` until the payload's ``wrap_up_until``) and removes it in any other state
  (ended, queued again by a transfer, abandoned); a reservation completed while its item
  is not wrapping up removes it too (its interaction was over already and did not move);
- messages, their delivery and their files, the customer typing and the notes of a
  conversation in the view (offered or in hand) pass through without changing it, and
  so do notes that mention the agent;
- an event that changes what an item shows without carrying the new values (its
  customer renamed or merged, its conversation merged, split or given another subject,
  its queue changed) asks for a resync: such changes are rare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from opencx.core._live_people import (
    AgentStatus,
    agent_json,
    instant,
    is_older,
    shown_fields_changed,
    with_presence,
)
from opencx.core.events import DomainEvent, EventType

__all__ = [
    "AgentView",
    "OfferStatus",
    "WorkItem",
    "WorkState",
    "agent_needs_details",
    "agent_view_json",
    "apply_to_agent",
    "offer_status",
    "relevant_to_agent",
]

_E = EventType
_RESERVATIONS = frozenset({_E.RESERVATION_CREATED, _E.RESERVATION_UPDATED})
#: News of a conversation in the view, passed on as it is.
_NEWS = frozenset({_E.MESSAGE_CREATED, _E.MESSAGE_DELIVERY_CHANGED, _E.MESSAGE_ATTACHMENT_CHANGED})
#: Changes an item may show without their values: a resync when they concern one.
_RESHAPING = frozenset(
    {
        _E.CONVERSATION_UPDATED,
        _E.CONVERSATION_STATUS_CHANGED,
        _E.CUSTOMER_UPDATED,
        _E.CUSTOMER_MERGED,
        _E.IDENTITY_ADDED,
        _E.QUEUE_CHANGED,
    }
)
#: Conversation fields an item shows, or whose change moves its interaction elsewhere.
_CONVERSATION_FIELDS = frozenset({"subject", "customer_id", "messages"})
#: Customer fields its name is made of.
_CUSTOMER_FIELDS = frozenset({"display_name", "identities"})


class WorkState(StrEnum):
    ACTIVE = "active"
    HELD = "held"
    WRAP_UP = "wrap_up"


@dataclass(frozen=True, slots=True)
class OfferStatus:
    """A task offered to the agent and not yet accepted, rejected or expired."""

    reservation_id: int
    task_id: int
    interaction_id: int | None
    conversation_id: int | None
    channel: str
    queue_id: int | None
    expires_at: str
    callback: bool
    customer_id: int | None = None
    customer_name: str | None = None
    queue_name: str | None = None
    waiting_since: str | None = None
    auto_accept: bool = False
    transfer_note: str | None = None
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A task the agent accepted and still works on (talking, on hold, wrapping up)."""

    task_id: int
    interaction_id: int | None
    conversation_id: int | None
    channel: str
    queue_id: int | None
    queue_name: str | None
    customer_id: int | None
    customer_name: str | None
    subject: str | None
    state: WorkState
    since: datetime
    wrap_up_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AgentView:
    """An agent's own presence, offers (by reservation id), work in hand (by task id)
    and the ids of their help requests still open."""

    me: AgentStatus
    offers: Mapping[int, OfferStatus] = field(default_factory=dict)
    conversations: Mapping[int, WorkItem] = field(default_factory=dict)
    help_pending: frozenset[int] = frozenset()
    needs_resync: bool = False

    def followed(self) -> set[int]:
        """The conversations offered to the agent or in their hands."""
        offered = {offer.conversation_id for offer in self.offers.values()}
        handled = {item.conversation_id for item in self.conversations.values()}
        return {c for c in offered | handled if c is not None}

    def customers(self) -> set[int]:
        offered = {offer.customer_id for offer in self.offers.values()}
        handled = {item.customer_id for item in self.conversations.values()}
        return {c for c in offered | handled if c is not None}

    def queues(self) -> set[int]:
        offered = {offer.queue_id for offer in self.offers.values()}
        handled = {item.queue_id for item in self.conversations.values()}
        return {q for q in offered | handled if q is not None}


# --- which events the agent is sent ----------------------------------------------------


def relevant_to_agent(view: AgentView, event: DomainEvent) -> bool:
    me = view.me.user_id
    payload = event.payload
    kind = event.type
    if kind in _RESERVATIONS:
        return payload.get("worker_id") == me
    if kind is _E.INTERACTION_STATE_CHANGED:
        return _item_of(view, event.entity_id) is not None
    if kind in (_E.HELP_REQUESTED, _E.HELP_ANSWERED):
        return payload.get("agent_id") == me
    if kind is _E.NOTE_CREATED:
        mentions = payload.get("mentions")
        mentioned = isinstance(mentions, list) and me in mentions
        return mentioned or payload.get("conversation_id") in view.followed()
    if kind is _E.CHAT_TYPING:
        visitor = payload.get("who") == "visitor"
        return visitor and payload.get("conversation_id") in view.followed()
    if kind in _NEWS:
        return payload.get("conversation_id") in view.followed()
    if kind in _RESHAPING:
        return _reshapes(view, event)
    about_me = event.entity_kind == "user" and event.entity_id == me
    return about_me and kind in (_E.AGENT_PRESENCE_CHANGED, _E.USER_UPDATED)


def _reshapes(view: AgentView, event: DomainEvent) -> bool:
    payload = event.payload
    match event.type:
        case _E.CONVERSATION_UPDATED:
            fields = payload.get("fields")
            return payload.get("conversation_id") in view.followed() and (
                not isinstance(fields, list) or not _CONVERSATION_FIELDS.isdisjoint(fields)
            )
        case _E.CONVERSATION_STATUS_CHANGED:
            merged = "merged_into" in payload
            return merged and payload.get("conversation_id") in view.followed()
        case _E.CUSTOMER_UPDATED:
            fields = payload.get("fields")
            return event.entity_id in view.customers() and (
                not isinstance(fields, list) or not _CUSTOMER_FIELDS.isdisjoint(fields)
            )
        case _E.CUSTOMER_MERGED:
            customers = view.customers()
            return event.entity_id in customers or payload.get("source_customer_id") in customers
        case _E.IDENTITY_ADDED:
            return event.entity_id in view.customers()
        case _E.QUEUE_CHANGED:
            return event.entity_id in view.queues()
        case _:
            return False


def agent_needs_details(view: AgentView, event: DomainEvent) -> bool:
    """A new offer: its customer, queue, subject and note are read for it."""
    payload = event.payload
    return (
        event.type in _RESERVATIONS
        and payload.get("worker_id") == view.me.user_id
        and payload.get("state") == "pending"
    )


# --- reducers -----------------------------------------------------------------------


def apply_to_agent(
    view: AgentView, event: DomainEvent, details: Mapping[str, Any] | None
) -> AgentView:
    if not relevant_to_agent(view, event):
        return view
    kind = event.type
    if kind in _RESERVATIONS:
        return _with_reservation(view, event, details)
    if kind is _E.INTERACTION_STATE_CHANGED:
        return _with_interaction(view, event)
    if kind is _E.HELP_REQUESTED:
        return replace(view, help_pending=view.help_pending | {event.entity_id})
    if kind is _E.HELP_ANSWERED:
        return replace(view, help_pending=view.help_pending - {event.entity_id})
    if kind in _RESHAPING:
        return replace(view, needs_resync=True)
    if kind is _E.USER_UPDATED:
        return replace(view, needs_resync=True) if shown_fields_changed(event) else view
    if kind is _E.AGENT_PRESENCE_CHANGED and not is_older(event, view.me):
        me = with_presence(view.me, event)
        return replace(view, needs_resync=True) if me is None else replace(view, me=me)
    return view


def _with_reservation(
    view: AgentView, event: DomainEvent, details: Mapping[str, Any] | None
) -> AgentView:
    payload = event.payload
    offers = dict(view.offers)
    state = payload.get("state")
    if state == "pending":
        offer = offer_status(details) if details is not None else None
        if offer is None or offer.reservation_id != event.entity_id:
            return replace(view, needs_resync=True)
        offers[offer.reservation_id] = offer
        return replace(view, offers=offers)
    offer = offers.pop(event.entity_id, None)
    items = dict(view.conversations)
    if state == "accepted":
        since = instant(payload.get("accepted_at"))
        if offer is None or since is None:
            return replace(view, needs_resync=True)
        items[offer.task_id] = _work_item(offer, since)
    elif state == "completed":
        task_id = payload.get("task_id")
        item = items.get(task_id) if isinstance(task_id, int) else None
        if item is not None and item.state is not WorkState.WRAP_UP:
            del items[item.task_id]
    return replace(view, offers=offers, conversations=items)


def _with_interaction(view: AgentView, event: DomainEvent) -> AgentView:
    item = _item_of(view, event.entity_id)
    if item is None:
        return view
    items = dict(view.conversations)
    state = event.payload.get("state")
    if state in (WorkState.ACTIVE, WorkState.HELD):
        items[item.task_id] = replace(item, state=WorkState(state))
    elif state == WorkState.WRAP_UP:
        raw = event.payload.get("wrap_up_until")
        until = instant(raw)
        if raw is not None and until is None:
            return replace(view, needs_resync=True)
        items[item.task_id] = replace(item, state=WorkState.WRAP_UP, wrap_up_until=until)
    else:
        del items[item.task_id]
    return replace(view, conversations=items)


def _item_of(view: AgentView, interaction_id: int) -> WorkItem | None:
    for item in view.conversations.values():
        if item.interaction_id == interaction_id:
            return item
    return None


def _work_item(offer: OfferStatus, since: datetime) -> WorkItem:
    return WorkItem(
        task_id=offer.task_id,
        interaction_id=offer.interaction_id,
        conversation_id=offer.conversation_id,
        channel=offer.channel,
        queue_id=offer.queue_id,
        queue_name=offer.queue_name,
        customer_id=offer.customer_id,
        customer_name=offer.customer_name,
        subject=offer.subject,
        state=WorkState.ACTIVE,
        since=since,
    )


def offer_status(data: Mapping[str, Any]) -> OfferStatus | None:
    """The offer that ``data`` describes (a snapshot's offer, an event's details); ``None``
    when it is malformed."""
    try:
        return OfferStatus(
            reservation_id=int(data["reservation_id"]),
            task_id=int(data["task_id"]),
            interaction_id=_int_or_none(data.get("interaction_id")),
            conversation_id=_int_or_none(data.get("conversation_id")),
            channel=str(data["channel"]),
            queue_id=_int_or_none(data.get("queue_id")),
            expires_at=str(data["expires_at"]),
            callback=bool(data.get("callback", False)),
            customer_id=_int_or_none(data.get("customer_id")),
            customer_name=_str_or_none(data.get("customer_name")),
            queue_name=_str_or_none(data.get("queue_name")),
            waiting_since=_str_or_none(data.get("waiting_since")),
            auto_accept=bool(data.get("auto_accept", False)),
            transfer_note=_str_or_none(data.get("transfer_note")),
            subject=_str_or_none(data.get("subject")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _int_or_none(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not an integer: {value!r}")
    return value


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"not a string: {value!r}")
    return value


# --- JSON --------------------------------------------------------------------------


def agent_view_json(view: AgentView) -> dict[str, Any]:
    items = sorted(view.conversations.values(), key=lambda item: (item.since, item.task_id))
    return {
        **agent_json(view.me),
        "offers": [offer_json(view.offers[key]) for key in sorted(view.offers)],
        "conversations": [_item_json(item) for item in items],
        "help_answers_pending": sorted(view.help_pending),
    }


def offer_json(offer: OfferStatus) -> dict[str, Any]:
    return {
        "reservation_id": offer.reservation_id,
        "task_id": offer.task_id,
        "interaction_id": offer.interaction_id,
        "conversation_id": offer.conversation_id,
        "channel": offer.channel,
        "queue_id": offer.queue_id,
        "expires_at": offer.expires_at,
        "callback": offer.callback,
        "customer_id": offer.customer_id,
        "customer_name": offer.customer_name,
        "queue_name": offer.queue_name,
        "waiting_since": offer.waiting_since,
        "auto_accept": offer.auto_accept,
        "transfer_note": offer.transfer_note,
        "subject": offer.subject,
    }


def _item_json(item: WorkItem) -> dict[str, Any]:
    until = item.wrap_up_until
    return {
        "task_id": item.task_id,
        "interaction_id": item.interaction_id,
        "conversation_id": item.conversation_id,
        "channel": item.channel,
        "queue_id": item.queue_id,
        "queue_name": item.queue_name,
        "customer_id": item.customer_id,
        "customer_name": item.customer_name,
        "subject": item.subject,
        "state": item.state.value,
        "since": item.since.isoformat(),
        "wrap_up_until": until.isoformat() if until is not None else None,
    }
