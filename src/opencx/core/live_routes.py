"""Which live connections an event is handed to: keys for events, keys for viewers.

A node holds a thousand agent sockets; handing every event to every one of them, each
to drop it in Python, costs a thousand wake-ups per message. Instead the bus indexes its
subscribers by the keys they listen on and hands an event only to those listening on
one of its keys (``opencx.realtime.bus``).

Rules:
- A key names one thing an event can be about: ``("user", id)``, ``("conversation",
  id)``, ``("customer", id)``, ``("queue", id)``, ``("interaction", id)``, or
  ``ROUTING``, the routing steps that move a chat visitor's place in its queue.
- ``event_routes(event)`` maps each key the event is routed by to the keys a subscriber
  gains by receiving it under that key: a reservation routed to its agent gains the
  offer's conversation, interaction, queue and customer, so that news of that
  conversation reaches the agent even before their feed has applied the offer.
- ``agent_interests(view)`` are the keys an agent's view listens on. Every event
  ``relevant_to_agent`` shares a key with them, and an event adds to them no key
  beyond those it gains (both property-tested); a feed that finds otherwise (an offer
  whose details name another customer than its event) reads a fresh snapshot.
- ``chat_visitor_interests(conversation_id)``: a visitor's chat hears its conversation
  and the routing steps.
- A desktop that follows its inbox also listens on ``("inbox", queue)`` for each queue it
  serves (``INBOX_ANY`` when it is shown every queue): routing's steps in a queue move
  its waiting line and its agents' work, which the inbox's ``waiting`` and ``team``
  views list (``inbox_views_touched``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from opencx.core._live_agent import AgentView
from opencx.core.events import DomainEvent, EventType

__all__ = [
    "INBOX_ANY",
    "INBOX_VIEWS",
    "ROUTING",
    "Key",
    "agent_interests",
    "chat_visitor_interests",
    "event_routes",
    "inbox_keys",
    "inbox_views_touched",
]

Key = tuple[str, int]
#: Routing's own steps: a chat visitor waiting in a queue follows them all.
ROUTING: Final[Key] = ("routing", 0)
#: Every queue's waiting line, for a desktop shown them all (an admin's).
INBOX_ANY: Final[Key] = ("inbox", 0)
#: The inbox views that change with colleagues' work, not only the agent's own.
INBOX_VIEWS: Final = frozenset({"waiting", "team"})

_E = EventType
_NOTHING: frozenset[Key] = frozenset()
_RESERVATIONS = frozenset({_E.RESERVATION_CREATED, _E.RESERVATION_UPDATED})
_ROUTING_STEPS = frozenset(
    {
        _E.TASK_CREATED,
        _E.TASK_UPDATED,
        _E.TASK_ENDED,
        _E.RESERVATION_CREATED,
        _E.RESERVATION_UPDATED,
        _E.INTERACTION_STATE_CHANGED,
    }
)
_CUSTOMER_ENTITIES = frozenset({_E.CUSTOMER_UPDATED, _E.CUSTOMER_MERGED, _E.IDENTITY_ADDED})
#: A contact entering a queue (a routing step), offered, taken or let go (a reservation),
#: answered, wrapped up, transferred or abandoned (its interaction's state).
_QUEUE_LINE_NEWS = frozenset(
    {_E.TASK_UPDATED, _E.RESERVATION_UPDATED, _E.INTERACTION_STATE_CHANGED}
)


def event_routes(event: DomainEvent) -> Mapping[Key, frozenset[Key]]:
    """The keys ``event`` is routed by, each with the keys it adds to a subscriber
    listening on it."""
    payload = event.payload
    kind = event.type
    routes: dict[Key, frozenset[Key]] = {}
    conversation = _id(payload.get("conversation_id"))
    if conversation is not None:
        routes[("conversation", conversation)] = _NOTHING
    if kind in _ROUTING_STEPS:
        routes[ROUTING] = _NOTHING
    if kind in _RESERVATIONS:
        worker = _id(payload.get("worker_id"))
        if worker is not None:
            routes[("user", worker)] = _offered(payload)
    elif kind is _E.INTERACTION_STATE_CHANGED:
        routes[("interaction", event.entity_id)] = _NOTHING
    elif kind in (_E.HELP_REQUESTED, _E.HELP_ANSWERED):
        agent = _id(payload.get("agent_id"))
        if agent is not None:
            routes[("user", agent)] = _NOTHING
    elif kind is _E.NOTE_CREATED:
        mentions = payload.get("mentions")
        for user in mentions if isinstance(mentions, list) else ():
            if _id(user) is not None:
                routes[("user", user)] = _NOTHING
    elif kind in _CUSTOMER_ENTITIES:
        routes[("customer", event.entity_id)] = _NOTHING
        source = _id(payload.get("source_customer_id"))
        if source is not None:
            routes[("customer", source)] = _NOTHING
    elif kind is _E.QUEUE_CHANGED:
        routes[("queue", event.entity_id)] = _NOTHING
    if event.entity_kind == "user":
        routes[("user", event.entity_id)] = _NOTHING
    queue = _id(payload.get("queue_id"))
    if kind in _QUEUE_LINE_NEWS and queue is not None:
        routes[("inbox", queue)] = _NOTHING
        routes[INBOX_ANY] = _NOTHING
    return routes


def agent_interests(view: AgentView) -> frozenset[Key]:
    """The keys an agent's feed listens on: themselves and what they were offered or
    have in hand."""
    keys: set[Key] = {("user", view.me.user_id)}
    keys.update(("conversation", c) for c in view.followed())
    keys.update(("customer", c) for c in view.customers())
    keys.update(("queue", q) for q in view.queues())
    interactions = [offer.interaction_id for offer in view.offers.values()]
    interactions += [item.interaction_id for item in view.conversations.values()]
    keys.update(("interaction", i) for i in interactions if i is not None)
    return frozenset(keys)


def inbox_keys(queues: frozenset[int] | None) -> frozenset[Key]:
    """The keys a desktop following its inbox adds: the queues it serves, ``None``
    meaning every queue."""
    if queues is None:
        return frozenset({INBOX_ANY})
    return frozenset(("inbox", q) for q in queues)


def inbox_views_touched(queues: frozenset[int] | None, event: DomainEvent) -> frozenset[str]:
    """The inbox views of a desktop serving ``queues`` (every queue if ``None``) that
    ``event`` may change: none, or ``waiting`` and ``team``."""
    if event.type not in _QUEUE_LINE_NEWS:
        return frozenset()
    queue = _id(event.payload.get("queue_id"))
    if queue is None or (queues is not None and queue not in queues):
        return frozenset()
    return INBOX_VIEWS


def chat_visitor_interests(conversation_id: int) -> frozenset[Key]:
    return frozenset({("conversation", conversation_id), ROUTING})


def _offered(payload: Mapping[str, object]) -> frozenset[Key]:
    keys: set[Key] = set()
    for name, field in (
        ("conversation", "conversation_id"),
        ("interaction", "interaction_id"),
        ("queue", "queue_id"),
        ("customer", "customer_id"),
    ):
        value = _id(payload.get(field))
        if value is not None:
            keys.add((name, value))
    return frozenset(keys)


def _id(value: object) -> int | None:
    # bool is an int to Python, never an id to us
    return value if isinstance(value, int) and not isinstance(value, bool) else None
