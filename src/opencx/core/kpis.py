"""Contact-center KPIs, defined once: the live cockpit, the interval reports and later
reports all compute their figures here, so a figure is the same wherever it is shown.

Three layers (``docs/kpis.md`` gives every formula):

(a) **facts**: ``KpiFold`` reads the event log in order and follows each contact *leg*
    (an interaction's stay in one queue until an agent's work on it ends: a transfer
    starts a new leg) and each agent's presence;
(b) **counters**: what a fact adds to a 15-minute interval and a key (queue, site,
    agent, channel) is a ``Counters`` value, sums and counts only, so counters merge
    (``+``) associatively and commutatively: intervals roll up exactly to hours and
    days, and live figures are the same arithmetic over a shorter span;
(c) **ratios**: every KPI is a function of counters (``service_level``, ``asa``…),
    ``None`` when its denominator is zero.

Rules:
- a leg's waiting outcome (offered, answered, abandoned, deflected, its wait) counts in
  the interval where the wait ended; its handling (talk, hold, wrap-up, transfer) in the
  interval where the agent's work on it ended;
- busy time (an agent's talk, hold and wrap-up) and available time are split at
  interval boundaries, and reach the intervals when the period ends;
- "within target" is ``wait <= service_level_seconds``; a short abandon is
  ``wait < short_abandon_seconds``, both the leg's queue's;
- a completed contact is a repeat when a new inbound interaction arrives in the same
  conversation (the same need) within ``fcr_days`` of its end: the repeat is counted
  back in the completed contact's interval and key;
- the e-mail backlog is a level, not a flow: each interval boundary records the e-mail
  legs waiting then and since when the oldest waits; merging keeps the latest
  boundary (summing backlogs of the same boundary).

Pure: no I/O, no clock; times come from the events.

Event payload contracts read here:
- ``interaction.created`` (entity ``interaction``): ``conversation_id``, ``channel``,
  ``queue_id``, ``direction``;
- ``interaction.state_changed`` (entity ``interaction``): ``conversation_id``,
  ``state``, ``previous``, ``channel``, ``queue_id``, ``agent_id``;
- ``agent.presence_changed`` (entity ``user``): ``presence``; the event's ``site_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

__all__ = [
    "COUNTER_FIELDS",
    "INTERVAL",
    "KPI_EVENT_TYPES",
    "SHOWN_SERVICE_LEVEL",
    "ZERO",
    "ContactLeg",
    "Counters",
    "Key",
    "KeyValues",
    "KpiFold",
    "LogEvent",
    "Parts",
    "QueueTargets",
    "ServiceLevelVariant",
    "abandon_rate",
    "abandon_rate_less_short",
    "add_level",
    "add_parts",
    "aht",
    "asa",
    "average_abandon_wait",
    "average_hold",
    "average_talk",
    "average_wrap",
    "backlog_age",
    "counters_of_parts",
    "fcr",
    "figures",
    "handle_counters",
    "interval_start",
    "merge_tally",
    "new_tally",
    "occupancy",
    "roll_up",
    "service_level",
    "total",
    "transfer_rate",
    "wait_counters",
]

INTERVAL = timedelta(minutes=15)
_STEP = int(INTERVAL.total_seconds())
KPI_EVENT_TYPES = ("interaction.created", "interaction.state_changed", "agent.presence_changed")


def interval_start(at: datetime) -> datetime:
    """The start of the 15-minute interval holding ``at`` (UTC)."""
    return _instant(_floor(at.timestamp()))


# ----------------------------------------------------------------------- counters


@dataclass(frozen=True, slots=True)
class Key:
    """What a row of counters is about; ``None`` where it does not apply (abandoned
    legs have no agent, available time has no queue)."""

    queue_id: int | None = None
    site_id: int | None = None
    agent_id: int | None = None
    channel: str | None = None


#: A key's values in ``Key``'s order: what the fold keys its rows by.
KeyValues = tuple[int | None, int | None, int | None, str | None]


@dataclass(frozen=True, slots=True)
class Counters:
    """Additive counters of one interval and key. Sums and counts merge by addition,
    ``longest_wait_seconds`` by maximum, the backlog by its latest boundary."""

    offered: int = 0
    transferred_in: int = 0  # offered legs that a transfer started
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    abandoned_in_target: int = 0
    abandoned_short: int = 0
    deflected: int = 0  # left the queue unanswered for a fallback (callback, voicemail…)
    answer_wait_seconds: float = 0.0
    abandon_wait_seconds: float = 0.0
    longest_wait_seconds: float = 0.0
    handled: int = 0
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    wrap_seconds: float = 0.0
    transferred: int = 0
    completed: int = 0  # handled legs that ended the contact (not transferred)
    repeated: int = 0  # completed contacts followed by a new one on the same need
    busy_seconds: float = 0.0
    available_seconds: float = 0.0
    backlog_at: float | None = None  # the boundary (epoch seconds) of the backlog level
    backlog: int = 0
    backlog_oldest: float | None = None  # when the oldest waiting e-mail started waiting

    def __add__(self, other: Counters) -> Counters:
        values: dict[str, Any] = {
            name: getattr(self, name) + getattr(other, name) for name in _SUMMED
        }
        values["longest_wait_seconds"] = max(self.longest_wait_seconds, other.longest_wait_seconds)
        values.update(_later_backlog(self, other))
        return Counters(**values)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COUNTER_FIELDS}


COUNTER_FIELDS = tuple(f.name for f in fields(Counters))
_LEVELS = frozenset({"longest_wait_seconds", "backlog_at", "backlog", "backlog_oldest"})
_SUMMED = tuple(name for name in COUNTER_FIELDS if name not in _LEVELS)
ZERO = Counters()

# The fast path. Folding millions of events builds no ``Counters`` per fact: a row
# being summed is a *tally*, a list of the counters' values in ``COUNTER_FIELDS``
# order, and a fact's contribution is its *parts*, the (position, value) pairs it adds.
# ``add_parts``, ``add_level`` and ``merge_tally`` apply exactly the rules of
# ``Counters.__add__`` (a test checks the fast fold against it on random logs).

#: (position in ``COUNTER_FIELDS``, value) pairs that a fact adds.
Parts = tuple[tuple[int, float], ...]
_AT = {name: i for i, name in enumerate(COUNTER_FIELDS)}
_OFFERED, _TRANSFERRED_IN, _ANSWERED_AT = _AT["offered"], _AT["transferred_in"], _AT["answered"]
_ANSWERED_IN_TARGET, _ABANDONED_AT = _AT["answered_in_target"], _AT["abandoned"]
_ABANDONED_IN_TARGET, _ABANDONED_SHORT = _AT["abandoned_in_target"], _AT["abandoned_short"]
_DEFLECTED_AT, _ANSWER_WAIT = _AT["deflected"], _AT["answer_wait_seconds"]
_ABANDON_WAIT, _LONGEST = _AT["abandon_wait_seconds"], _AT["longest_wait_seconds"]
_HANDLED, _TALK, _HOLD, _WRAP = (
    _AT[n] for n in ("handled", "talk_seconds", "hold_seconds", "wrap_seconds")
)
_TRANSFERRED, _COMPLETED, _REPEATED = _AT["transferred"], _AT["completed"], _AT["repeated"]
_BUSY, _AVAILABLE = _AT["busy_seconds"], _AT["available_seconds"]
_BACKLOG_AT, _BACKLOG, _BACKLOG_OLDEST = _AT["backlog_at"], _AT["backlog"], _AT["backlog_oldest"]
_SUMMED_AT = tuple(_AT[name] for name in _SUMMED)
_ZERO_TALLY = tuple(getattr(ZERO, name) for name in COUNTER_FIELDS)


def new_tally() -> list[Any]:
    """The tally of ``ZERO``."""
    return list(_ZERO_TALLY)


def add_parts(tally: list[Any], parts: Parts) -> None:
    """Add a fact's ``parts`` (summed counters and the longest wait) to ``tally``."""
    for i, value in parts:
        if i == _LONGEST:
            if value > tally[i]:
                tally[i] = value
        else:
            tally[i] += value


def add_level(tally: list[Any], at: float | None, backlog: int, oldest: float | None) -> None:
    """Merge a backlog level taken at boundary ``at`` into ``tally``: the later
    boundary wins, levels of the same boundary add up (``Counters.__add__``'s rule)."""
    current = tally[_BACKLOG_AT]
    if current is None or (at is not None and at > current):
        tally[_BACKLOG_AT], tally[_BACKLOG], tally[_BACKLOG_OLDEST] = at, backlog, oldest
    elif at is not None and at == current:
        tally[_BACKLOG] += backlog
        kept = tally[_BACKLOG_OLDEST]
        if oldest is not None and (kept is None or oldest < kept):
            tally[_BACKLOG_OLDEST] = oldest


def merge_tally(tally: list[Any], other: Sequence[Any]) -> None:
    """``tally`` becomes ``tally + other`` (``other`` a tally, or any sequence of the
    counters' values in ``COUNTER_FIELDS`` order)."""
    for i in _SUMMED_AT:
        tally[i] += other[i]
    if other[_LONGEST] > tally[_LONGEST]:
        tally[_LONGEST] = other[_LONGEST]
    add_level(tally, other[_BACKLOG_AT], other[_BACKLOG], other[_BACKLOG_OLDEST])


def counters_of_parts(parts: Parts) -> Counters:
    tally = new_tally()
    add_parts(tally, parts)
    return Counters(*tally)


def _later_backlog(a: Counters, b: Counters) -> dict[str, Any]:
    if a.backlog_at is None or (b.backlog_at is not None and b.backlog_at > a.backlog_at):
        return {
            "backlog_at": b.backlog_at,
            "backlog": b.backlog,
            "backlog_oldest": b.backlog_oldest,
        }
    if b.backlog_at is None or a.backlog_at > b.backlog_at:
        return {
            "backlog_at": a.backlog_at,
            "backlog": a.backlog,
            "backlog_oldest": a.backlog_oldest,
        }
    oldest = [t for t in (a.backlog_oldest, b.backlog_oldest) if t is not None]
    return {
        "backlog_at": a.backlog_at,
        "backlog": a.backlog + b.backlog,
        "backlog_oldest": min(oldest) if oldest else None,
    }


def total(counters: Iterable[Counters]) -> Counters:
    """All of ``counters`` merged (``ZERO`` for none)."""
    result = ZERO
    for c in counters:
        result = result + c
    return result


def roll_up(
    rows: Iterable[tuple[datetime, Key, Counters]], *, span: timedelta
) -> dict[tuple[datetime, Key], Counters]:
    """Merge interval rows into spans of ``span`` (a multiple of 15 minutes, e.g. an
    hour or a day, aligned on the epoch in UTC)."""
    step = int(span.total_seconds())
    if step <= 0 or step % _STEP:
        raise ValueError("a span is a positive multiple of 15 minutes")
    merged: dict[tuple[datetime, Key], Counters] = {}
    for start, key, counters in rows:
        at = _instant(int(start.timestamp()) // step * step)
        merged[at, key] = merged.get((at, key), ZERO) + counters
    return merged


# ------------------------------------------------------------------------ ratios


class ServiceLevelVariant(StrEnum):
    """The published service-level formulas; each names its numerator and denominator."""

    #: answered in target / answered
    OVER_ANSWERED = "answered_in_target_over_answered"
    #: answered in target / offered
    OVER_OFFERED = "answered_in_target_over_offered"
    #: answered in target / (offered - short abandons)
    OVER_OFFERED_LESS_SHORT = "answered_in_target_over_offered_less_short_abandons"
    #: answered in target / (offered - abandoned in target): abandons in target are neither
    ABANDONS_IN_TARGET_IGNORED = "answered_in_target_over_offered_less_abandoned_in_target"
    #: (answered in target + abandoned in target) / offered: abandons in target meet it
    ABANDONS_IN_TARGET_MET = "answered_or_abandoned_in_target_over_offered"


#: The variant the cockpit and the reports show as "service level".
SHOWN_SERVICE_LEVEL = ServiceLevelVariant.OVER_OFFERED_LESS_SHORT


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def service_level(c: Counters, variant: ServiceLevelVariant = SHOWN_SERVICE_LEVEL) -> float | None:
    """The share of contacts answered within their queue's target, by ``variant``."""
    v = ServiceLevelVariant
    match variant:
        case v.OVER_ANSWERED:
            return _ratio(c.answered_in_target, c.answered)
        case v.OVER_OFFERED:
            return _ratio(c.answered_in_target, c.offered)
        case v.OVER_OFFERED_LESS_SHORT:
            return _ratio(c.answered_in_target, c.offered - c.abandoned_short)
        case v.ABANDONS_IN_TARGET_IGNORED:
            return _ratio(c.answered_in_target, c.offered - c.abandoned_in_target)
        case v.ABANDONS_IN_TARGET_MET:
            return _ratio(c.answered_in_target + c.abandoned_in_target, c.offered)
    raise ValueError(variant)  # pragma: no cover - the match is exhaustive


def abandon_rate(c: Counters) -> float | None:
    """abandoned / offered."""
    return _ratio(c.abandoned, c.offered)


def abandon_rate_less_short(c: Counters) -> float | None:
    """(abandoned - short abandons) / (offered - short abandons)."""
    return _ratio(c.abandoned - c.abandoned_short, c.offered - c.abandoned_short)


def asa(c: Counters) -> float | None:
    """Average speed of answer: answered legs' waits / answered, in seconds."""
    return _ratio(c.answer_wait_seconds, c.answered)


def average_abandon_wait(c: Counters) -> float | None:
    return _ratio(c.abandon_wait_seconds, c.abandoned)


def aht(c: Counters) -> float | None:
    """Average handle time: (talk + hold + wrap-up) / handled, in seconds."""
    return _ratio(c.talk_seconds + c.hold_seconds + c.wrap_seconds, c.handled)


def average_talk(c: Counters) -> float | None:
    return _ratio(c.talk_seconds, c.handled)


def average_hold(c: Counters) -> float | None:
    return _ratio(c.hold_seconds, c.handled)


def average_wrap(c: Counters) -> float | None:
    return _ratio(c.wrap_seconds, c.handled)


def occupancy(c: Counters) -> float | None:
    """busy / available time, at most 1 (several chats at once count several times)."""
    ratio = _ratio(c.busy_seconds, c.available_seconds)
    return min(ratio, 1.0) if ratio is not None else None


def transfer_rate(c: Counters) -> float | None:
    """transferred / handled."""
    return _ratio(c.transferred, c.handled)


def fcr(c: Counters) -> float | None:
    """First-contact resolution: (completed - repeated) / completed."""
    return _ratio(c.completed - c.repeated, c.completed)


def backlog_age(c: Counters) -> float | None:
    """How long the oldest e-mail of the backlog had waited at its boundary (seconds)."""
    if c.backlog_at is None or c.backlog_oldest is None:
        return None
    return c.backlog_at - c.backlog_oldest


def figures(c: Counters) -> dict[str, float | None]:
    """Every KPI of ``c`` by name (``service_level`` is ``SHOWN_SERVICE_LEVEL``)."""
    out: dict[str, float | None] = {
        "service_level": service_level(c),
        **{f"service_level_{v.value}": service_level(c, v) for v in ServiceLevelVariant},
        "abandon_rate": abandon_rate(c),
        "abandon_rate_less_short": abandon_rate_less_short(c),
        "asa_seconds": asa(c),
        "average_abandon_wait_seconds": average_abandon_wait(c),
        "longest_wait_seconds": c.longest_wait_seconds if c.answered + c.abandoned else None,
        "aht_seconds": aht(c),
        "average_talk_seconds": average_talk(c),
        "average_hold_seconds": average_hold(c),
        "average_wrap_seconds": average_wrap(c),
        "occupancy": occupancy(c),
        "transfer_rate": transfer_rate(c),
        "fcr": fcr(c),
        "backlog": float(c.backlog) if c.backlog_at is not None else None,
        "backlog_age_seconds": backlog_age(c),
    }
    return out


# -------------------------------------------------------------------------- facts


@dataclass(frozen=True, slots=True)
class QueueTargets:
    """A queue's thresholds: its service-level target and its short-abandon limit."""

    service_level_seconds: int = 20
    short_abandon_seconds: int = 5


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One row of the event log, as the fold reads it."""

    id: int
    type: str
    entity_id: int
    occurred_at: datetime
    payload: Mapping[str, Any]
    site_id: int | None = None


@dataclass(slots=True)
class ContactLeg:
    """The fact record of one leg: an interaction's stay in a queue until an agent's
    work on it ends. Times are epoch seconds (UTC)."""

    interaction_id: int
    conversation_id: int | None
    channel: str | None
    site_id: int | None
    queue_id: int | None
    state: str
    since: float  # when it entered ``state``
    offered_at: float | None = None  # entered the queue (None: never queued)
    answered_at: float | None = None
    agent_id: int | None = None
    transferred_in: bool = False
    talk: float = 0.0
    hold: float = 0.0
    wrap: float = 0.0

    def key(self, *, agent: bool = True) -> KeyValues:
        """The key's values (``Key(*leg.key())``): a plain tuple hashes fast."""
        return (self.queue_id, self.site_id, self.agent_id if agent else None, self.channel)

    def waiting(self) -> bool:
        return self.offered_at is not None and self.answered_at is None


def wait_counters(leg: ContactLeg, outcome: str, at: float, targets: QueueTargets) -> Counters:
    """What a leg's wait, ended at ``at`` by ``outcome`` (answered, abandoned or
    deflected), adds to its interval."""
    return counters_of_parts(_wait_parts(leg, outcome, at, targets))


def handle_counters(leg: ContactLeg, *, transferred: bool) -> Counters:
    """What a leg's handling adds to the interval where it ended."""
    return counters_of_parts(_handle_parts(leg, transferred=transferred))


def _wait_parts(leg: ContactLeg, outcome: str, at: float, targets: QueueTargets) -> Parts:
    assert leg.offered_at is not None
    wait = max(at - leg.offered_at, 0.0)
    in_target = int(wait <= targets.service_level_seconds)
    if outcome == _ANSWERED:
        return (
            (_OFFERED, 1),
            (_TRANSFERRED_IN, int(leg.transferred_in)),
            (_ANSWERED_AT, 1),
            (_ANSWERED_IN_TARGET, in_target),
            (_ANSWER_WAIT, wait),
            (_LONGEST, wait),
        )
    if outcome == _ABANDONED:
        return (
            (_OFFERED, 1),
            (_TRANSFERRED_IN, int(leg.transferred_in)),
            (_ABANDONED_AT, 1),
            (_ABANDONED_IN_TARGET, in_target),
            (_ABANDONED_SHORT, int(wait < targets.short_abandon_seconds)),
            (_ABANDON_WAIT, wait),
            (_LONGEST, wait),
        )
    return ((_OFFERED, 1), (_TRANSFERRED_IN, int(leg.transferred_in)), (_DEFLECTED_AT, 1))


def _handle_parts(leg: ContactLeg, *, transferred: bool) -> Parts:
    return (
        (_HANDLED, 1),
        (_TALK, leg.talk),
        (_HOLD, leg.hold),
        (_WRAP, leg.wrap),
        (_TRANSFERRED, int(transferred)),
        (_COMPLETED, int(not transferred)),
    )


# --------------------------------------------------------------------------- fold

_ANSWERED, _ABANDONED, _DEFLECTED = "answered", "abandoned", "deflected"
_WAITING = frozenset({"created", "queued", "offered"})
_WORKING = frozenset({"active", "held", "wrap_up"})
_SECONDS_OF = {"active": "talk", "held": "hold", "wrap_up": "wrap"}
_DAY = 86_400.0
_REPEAT: Parts = ((_REPEATED, 1),)


#: A conversation's last completed contact: when it ended, its interval and key. A
#: plain tuple (of plain values): the garbage collector stops following it.
_Completed = tuple[float, int, KeyValues]


@dataclass
class KpiFold:
    """Reads the event log in order (``feed``) and accumulates counters per interval
    and key (``rows``). ``targets`` gives each queue's thresholds (``default`` for the
    others); ``fcr_days`` is the repeat window of first-contact resolution.

    Rows are summed as tallies (see ``add_parts``) keyed by plain tuples; ``rows``
    turns them into ``Counters`` when it is read, ``take_tallies`` hands them over
    as they are."""

    targets: Mapping[int, QueueTargets] = field(default_factory=dict)
    default: QueueTargets = field(default_factory=QueueTargets)
    fcr_days: float = 7.0
    step: int = _STEP  # the interval length in seconds (15 minutes; longer to compare)
    legs: dict[int, ContactLeg] = field(default_factory=dict)
    agents: dict[int, tuple[str, float, int | None]] = field(default_factory=dict)
    completed: dict[int, _Completed] = field(default_factory=dict)
    boundary: int | None = None  # the last interval boundary whose backlog was taken
    backlog_keys: set[KeyValues] = field(default_factory=set)  # every key that had a backlog
    tallies: dict[tuple[int, KeyValues], list[Any]] = field(default_factory=dict)

    @property
    def rows(self) -> dict[tuple[int, Key], Counters]:
        """The counters summed so far, by interval start (epoch seconds) and key."""
        return {(start, Key(*key)): Counters(*t) for (start, key), t in self.tallies.items()}

    def take_tallies(self) -> dict[tuple[int, KeyValues], list[Any]]:
        """The rows summed so far as tallies (``Counters(*tally)`` is a row's
        counters), and start them again empty: to write them in batches."""
        tallies, self.tallies = self.tallies, {}
        return tallies

    def feed(self, event: LogEvent) -> None:
        at = event.occurred_at.timestamp()
        if self.boundary is None or at >= self.boundary + self.step:
            self._cross_boundaries(at)
        if event.type == "interaction.state_changed":
            self._state_changed(event, at)
        elif event.type == "interaction.created":
            self._created(event, at)
        elif event.type == "agent.presence_changed":
            self._presence(event, at)

    def feed_all(self, events: Iterable[LogEvent]) -> KpiFold:
        for event in events:
            self.feed(event)
        return self

    def close(self, until: datetime) -> None:
        """Take the backlog at every boundary up to ``until`` (the end of a report)."""
        self._cross_boundaries(until.timestamp())

    def state(self) -> dict[str, Any]:
        """The open state (not the rows), as JSON values, to go on later (``resume``)."""
        return {
            "legs": [_leg_json(leg) for leg in self.legs.values()],
            "agents": [[agent, *value] for agent, value in self.agents.items()],
            "completed": [
                [conv, ended, interval, *key]
                for conv, (ended, interval, key) in self.completed.items()
            ],
            "boundary": self.boundary,
            "backlog_keys": [list(key) for key in self.backlog_keys],
        }

    def resume(self, state: Mapping[str, Any]) -> KpiFold:
        """Take up the open state ``state`` saved; the rows start empty."""
        self.legs = {leg.interaction_id: leg for leg in map(_leg_of, state.get("legs", ()))}
        self.agents = {a: (str(p), float(t), s) for a, p, t, s in state.get("agents", ())}
        self.completed = {
            conv: (float(ended), int(start), _key_of(key))
            for conv, ended, start, *key in state.get("completed", ())
        }
        self.boundary = state.get("boundary")
        self.backlog_keys = {_key_of(key) for key in state.get("backlog_keys", ())}
        self.tallies = {}
        return self

    def intervals(self) -> Iterator[tuple[datetime, Key, Counters]]:
        for (start, key), counters in sorted(self.rows.items(), key=_row_order):
            yield _instant(start), key, counters

    # ------------------------------------------------------------------ events

    def _created(self, event: LogEvent, at: float) -> None:
        p = event.payload
        if p.get("direction", "inbound") == "inbound":
            self._repeat(p.get("conversation_id"), at)
        self.legs[event.entity_id] = ContactLeg(
            interaction_id=event.entity_id,
            conversation_id=p.get("conversation_id"),
            channel=p.get("channel"),
            site_id=event.site_id,
            queue_id=p.get("queue_id"),
            state="created",
            since=at,
        )

    def _state_changed(self, event: LogEvent, at: float) -> None:
        p = event.payload
        state = str(p.get("state"))
        leg = self.legs.get(event.entity_id)
        if leg is None:  # its creation predates the log: follow it from here
            leg = self.legs[event.entity_id] = ContactLeg(
                interaction_id=event.entity_id,
                conversation_id=p.get("conversation_id"),
                channel=p.get("channel"),
                site_id=event.site_id,
                queue_id=p.get("queue_id"),
                state=str(p.get("previous", "created")),
                since=at,
            )
        if leg.answered_at is not None and leg.state in _SECONDS_OF:
            self._close_segment(leg, at)
        if event.site_id is not None:
            leg.site_id = event.site_id
        leg.queue_id = p.get("queue_id", leg.queue_id)
        leg.channel = p.get("channel", leg.channel)
        leg.conversation_id = p.get("conversation_id", leg.conversation_id)
        if state in _WAITING:
            self._wait(leg, state, at)
        elif state in _WORKING:
            self._work(leg, state, at, p.get("agent_id"))
        else:
            self._end(leg, state, at)
        leg.state, leg.since = state, at

    def _wait(self, leg: ContactLeg, state: str, at: float) -> None:
        if leg.state in _WORKING:  # a transfer: this leg's work ends, a new leg waits
            self._handled(leg, at, transferred=True)
            leg.answered_at = None
            leg.offered_at = None
            leg.transferred_in = True
            leg.talk = leg.hold = leg.wrap = 0.0
        if leg.offered_at is None:
            leg.offered_at = at
        if leg.channel == "email":
            self.backlog_keys.add(leg.key(agent=False))

    def _work(self, leg: ContactLeg, state: str, at: float, agent_id: Any) -> None:
        if leg.answered_at is None:
            leg.agent_id = agent_id if agent_id is not None else leg.agent_id
            if leg.offered_at is not None:
                self._waited(leg, _ANSWERED, at)
            leg.answered_at = at

    def _end(self, leg: ContactLeg, state: str, at: float) -> None:
        del self.legs[leg.interaction_id]
        if leg.state in _WORKING:
            self._handled(leg, at, transferred=False)
            self._remember_completed(leg, at)
        elif leg.waiting():
            self._waited(leg, _ABANDONED if state == "abandoned" else _DEFLECTED, at)

    def _presence(self, event: LogEvent, at: float) -> None:
        previous = self.agents.get(event.entity_id)
        if previous is not None and previous[0] == "available":
            self._add_split(previous[1], at, (None, previous[2], event.entity_id, None), _AVAILABLE)
        self.agents[event.entity_id] = (str(event.payload.get("presence")), at, event.site_id)

    # --------------------------------------------------------------- counting

    def _targets(self, queue_id: int | None) -> QueueTargets:
        return self.targets.get(queue_id, self.default) if queue_id is not None else self.default

    def _waited(self, leg: ContactLeg, outcome: str, at: float) -> None:
        parts = _wait_parts(leg, outcome, at, self._targets(leg.queue_id))
        self._add(int(at // self.step) * self.step, leg.key(agent=outcome == _ANSWERED), parts)

    def _handled(self, leg: ContactLeg, at: float, *, transferred: bool) -> None:
        parts = _handle_parts(leg, transferred=transferred)
        self._add(int(at // self.step) * self.step, leg.key(), parts)

    def _close_segment(self, leg: ContactLeg, at: float) -> None:
        """The time the leg spent in its (working) state: talk, hold or wrap-up, and
        busy time split at interval boundaries."""
        seconds = max(at - leg.since, 0.0)
        if leg.state == "active":
            leg.talk += seconds
        elif leg.state == "held":
            leg.hold += seconds
        else:
            leg.wrap += seconds
        self._add_split(leg.since, at, leg.key(), _BUSY)

    def _remember_completed(self, leg: ContactLeg, at: float) -> None:
        if leg.conversation_id is not None:
            interval = int(at // self.step) * self.step
            self.completed[leg.conversation_id] = (at, interval, leg.key())

    def _repeat(self, conversation_id: int | None, at: float) -> None:
        """A new contact on the same need: the last completed one was not resolved if
        it ended within ``fcr_days``."""
        if conversation_id is None:
            return
        last = self.completed.pop(conversation_id, None)
        if last is not None and at - last[0] <= self.fcr_days * _DAY:
            self._add(last[1], last[2], _REPEAT)

    def _add_split(self, start: float, end: float, key: KeyValues, position: int) -> None:
        """Add the seconds of ``[start, end)`` in each interval it spans to the
        counter at ``position``."""
        step = self.step
        while start < end:
            floor = int(start // step) * step
            stop = min(floor + step, end)
            self._add(floor, key, ((position, stop - start),))
            start = stop

    def _add(self, start: int, key: KeyValues, parts: Parts) -> None:
        tally = self.tallies.get((start, key))
        if tally is None:
            tally = self.tallies[start, key] = list(_ZERO_TALLY)
        add_parts(tally, parts)

    def _add_level(
        self, start: int, key: KeyValues, level: tuple[float, int, float | None]
    ) -> None:
        tally = self.tallies.get((start, key))
        if tally is None:
            tally = self.tallies[start, key] = list(_ZERO_TALLY)
        add_level(tally, *level)

    # ---------------------------------------------------------------- backlog

    def _cross_boundaries(self, at: float) -> None:
        """Record the e-mail backlog at each boundary passed since the last event."""
        floor = int(at // self.step) * self.step
        if self.boundary is None:
            self.boundary = floor
            return
        while self.boundary < floor:
            self.boundary += self.step
            self._take_backlog(self.boundary)

    def _take_backlog(self, boundary: int) -> None:
        if not self.backlog_keys:
            return
        waiting: dict[KeyValues, tuple[int, float | None]] = {}
        for leg in self.legs.values():
            if leg.channel == "email" and leg.waiting() and leg.offered_at is not None:
                key = leg.key(agent=False)
                count, oldest = waiting.get(key, (0, leg.offered_at))
                waiting[key] = (count + 1, min(oldest or leg.offered_at, leg.offered_at))
        # Every key that ever had a backlog records its level, zero included, at every
        # boundary: the latest level of any span is then the one at its end.
        for key in self.backlog_keys:
            count, oldest = waiting.get(key, (0, None))
            # The level at a boundary belongs to the interval that ends there.
            self._add_level(boundary - self.step, key, (float(boundary), count, oldest))


# ----------------------------------------------------------------------- helpers


def _floor(at: float) -> int:
    return int(at // _STEP) * _STEP


def _key_of(values: Sequence[Any]) -> KeyValues:
    queue_id, site_id, agent_id, channel = values
    return (queue_id, site_id, agent_id, channel)


def _instant(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


_LEG_FIELDS = tuple(f.name for f in fields(ContactLeg))


def _leg_json(leg: ContactLeg) -> list[Any]:
    return [getattr(leg, name) for name in _LEG_FIELDS]


def _leg_of(values: list[Any]) -> ContactLeg:
    return ContactLeg(**dict(zip(_LEG_FIELDS, values, strict=True)))


def _row_order(item: tuple[tuple[int, Key], Counters]) -> tuple[int, tuple[int, ...]]:
    (start, key), _ = item
    return start, tuple(-1 if v is None else v for v in (key.queue_id, key.site_id, key.agent_id))
