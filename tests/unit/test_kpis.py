"""KPI definitions (``core.kpis``): hand-computed figures from known event sequences,
and the algebra of counters (merging, rolling up, ratios)."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.core import kpis
from opencx.core.kpis import (
    Counters,
    Key,
    KpiFold,
    LogEvent,
    QueueTargets,
    ServiceLevelVariant,
    roll_up,
    total,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
V = ServiceLevelVariant


class Log:
    """Builds a known event sequence the way the router and the services write it."""

    def __init__(self) -> None:
        self.events: list[LogEvent] = []
        self._ids = count(1)
        self._interactions = count(1)

    def add(self, at: float, type_: str, entity_id: int, site: int | None, **payload: Any) -> None:
        self.events.append(
            LogEvent(
                id=next(self._ids),
                type=type_,
                entity_id=entity_id,
                occurred_at=T0 + timedelta(seconds=at),
                payload=payload,
                site_id=site,
            )
        )

    def move(self, iid: int, at: float, state: str, previous: str, **fields: Any) -> None:
        payload = {"conversation_id": iid * 10, "channel": "voice", "queue_id": 1, **fields}
        payload.update(state=state, previous=previous)
        self.add(at, "interaction.state_changed", iid, payload.pop("site", 1), **payload)

    def contact(
        self,
        at: float,
        *,
        wait: float,
        answered: bool = True,
        talk: float = 0.0,
        hold: float = 0.0,
        wrap: float = 0.0,
        agent: int = 7,
        queue: int = 1,
        conversation: int | None = None,
        channel: str = "voice",
    ) -> int:
        """One inbound contact: created, queued, then answered (talk, hold, wrap-up)
        or abandoned after ``wait`` seconds."""
        iid = next(self._interactions)
        conv = conversation if conversation is not None else iid * 10
        common = {"conversation_id": conv, "channel": channel, "queue_id": queue}
        self.add(at, "interaction.created", iid, 1, direction="inbound", agent_id=None, **common)
        self.move(iid, at, "queued", "created", agent_id=None, **common)
        if not answered:
            self.move(iid, at + wait, "abandoned", "queued", agent_id=None, **common)
            return iid
        self.move(
            iid,
            at + wait - 0.5 if wait >= 0.5 else at,
            "offered",
            "queued",
            agent_id=agent,
            **common,
        )
        t = at + wait
        self.move(iid, t, "active", "offered", agent_id=agent, **common)
        t += talk
        if hold:
            self.move(iid, t, "held", "active", agent_id=agent, **common)
            t += hold
            self.move(iid, t, "active", "held", agent_id=agent, **common)
        self.move(iid, t, "wrap_up", "active", agent_id=agent, **common)
        self.move(iid, t + wrap, "ended", "wrap_up", agent_id=agent, **common)
        return iid

    def presence(self, agent: int, at: float, presence: str) -> None:
        self.add(at, "agent.presence_changed", agent, 1, presence=presence)

    def fold(self, **options: Any) -> KpiFold:
        fold = KpiFold(targets={1: QueueTargets(20, 5)}, **options)
        return fold.feed_all(sorted(self.events, key=lambda e: (e.occurred_at, e.id)))


def whole(fold: KpiFold) -> Counters:
    return total(counters for _, _, counters in fold.intervals())


# ------------------------------------------------------------ the published case


def test_the_published_service_level_case() -> None:
    """1,000 answered (860 within the 20 s target), 60 abandoned (20 within the target,
    10 of them within 5 s)."""
    log = Log()
    waits = [10.0] * 860 + [45.0] * 140
    for i, wait in enumerate(waits):
        log.contact(i * 3.0, wait=wait, talk=60)
    abandons = [2.0] * 10 + [12.0] * 10 + [40.0] * 40
    for i, wait in enumerate(abandons):
        log.contact(i * 3.0 + 1, wait=wait, answered=False)
    c = whole(log.fold())
    assert (c.offered, c.answered, c.abandoned) == (1060, 1000, 60)
    assert (c.answered_in_target, c.abandoned_in_target, c.abandoned_short) == (860, 20, 10)
    sl = {v: round(100 * (kpis.service_level(c, v) or 0), 1) for v in V}
    assert sl[V.OVER_ANSWERED] == 86.0
    assert sl[V.OVER_OFFERED] == 81.1
    assert sl[V.OVER_OFFERED_LESS_SHORT] == 81.9  # 860 / 1,050
    assert sl[V.ABANDONS_IN_TARGET_IGNORED] == 82.7  # 860 / 1,040
    assert sl[V.ABANDONS_IN_TARGET_MET] == 83.0  # 880 / 1,060
    assert kpis.service_level(c) == kpis.service_level(c, kpis.SHOWN_SERVICE_LEVEL)
    assert kpis.abandon_rate(c) == pytest.approx(60 / 1060)
    assert kpis.abandon_rate_less_short(c) == pytest.approx(50 / 1050)
    assert kpis.asa(c) == pytest.approx((860 * 10 + 140 * 45) / 1000)
    assert c.longest_wait_seconds == 45.0


# ------------------------------------------------------- every other KPI, by hand


def small_day() -> Log:
    """Agent 7 available 09:00-10:00. Contact A (conversation 100): waits 12 s,
    talks 120 s, holds 30 s, wraps 20 s. Contact B: waits 30 s, talks 60 s, is
    transferred blind (queue 2), waits 10 s more, agent 8 talks 90 s and wraps 10 s.
    Contact C: abandons after 3 s. Contact D (conversation 100 again, 1 day after A):
    waits 5 s, talks 40 s, wraps 0 s — a repeat of A."""
    log = Log()
    log.presence(7, 0, "available")
    log.contact(60, wait=12, talk=120, hold=30, wrap=20, conversation=100)  # A ends at 242
    b = 2
    common = {"conversation_id": 200, "channel": "voice"}
    log.add(300, "interaction.created", b, 1, direction="inbound", queue_id=1, **common)
    log.move(b, 300, "queued", "created", queue_id=1, agent_id=None, **common)
    log.move(b, 330, "active", "queued", queue_id=1, agent_id=7, **common)
    log.move(b, 390, "queued", "active", queue_id=1, agent_id=None, **common)
    log.move(b, 400, "active", "queued", queue_id=2, agent_id=8, **common)
    log.move(b, 490, "wrap_up", "active", queue_id=2, agent_id=8, **common)
    log.move(b, 500, "ended", "wrap_up", queue_id=2, agent_id=8, **common)
    log._interactions = count(3)
    log.contact(600, wait=3, answered=False)  # C
    log.presence(7, 3600, "offline")
    log.contact(86_400 + 100, wait=5, talk=40, conversation=100)  # D
    return log


def test_every_kpi_by_hand() -> None:
    fold = small_day().fold()
    c = whole(fold)
    # Legs offered: A, B (queue 1), B again (queue 2, transferred in), C, D.
    assert (c.offered, c.transferred_in, c.answered, c.abandoned) == (5, 1, 4, 1)
    assert (c.answered_in_target, c.abandoned_short, c.abandoned_in_target) == (3, 1, 1)
    assert kpis.asa(c) == pytest.approx((12 + 30 + 10 + 5) / 4)
    assert kpis.average_abandon_wait(c) == 3.0
    assert c.longest_wait_seconds == 30.0
    # Handled legs: A, B's first (transferred), B's second, D.
    assert (c.handled, c.transferred, c.completed) == (4, 1, 3)
    assert c.talk_seconds == 120 + 60 + 90 + 40
    assert c.hold_seconds == 30
    assert c.wrap_seconds == 20 + 10
    assert kpis.aht(c) == pytest.approx((310 + 30 + 30) / 4)
    assert kpis.average_talk(c) == pytest.approx(310 / 4)
    assert kpis.average_hold(c) == pytest.approx(30 / 4)
    assert kpis.average_wrap(c) == pytest.approx(30 / 4)
    assert kpis.transfer_rate(c) == pytest.approx(1 / 4)
    # D came back on A's need within 7 days: A was not resolved at first contact.
    assert c.repeated == 1
    assert kpis.fcr(c) == pytest.approx(2 / 3)
    for v, expected in {
        V.OVER_ANSWERED: 3 / 4,
        V.OVER_OFFERED: 3 / 5,
        V.OVER_OFFERED_LESS_SHORT: 3 / 4,
        V.ABANDONS_IN_TARGET_IGNORED: 3 / 4,
        V.ABANDONS_IN_TARGET_MET: 4 / 5,
    }.items():
        assert kpis.service_level(c, v) == pytest.approx(expected)


def test_occupancy_of_agent_7_by_hand() -> None:
    rows = list(small_day().fold().intervals())
    day_one = T0 + timedelta(days=1)
    mine = total(c for start, key, c in rows if key.agent_id == 7 and start < day_one)
    # Available 09:00-10:00; busy: A's talk, hold and wrap-up, and B's first leg.
    assert mine.available_seconds == 3600
    assert mine.busy_seconds == 120 + 30 + 20 + 60  # A: talk, hold, wrap-up; B: talk
    assert kpis.occupancy(mine) == pytest.approx(230 / 3600)


def test_where_figures_land() -> None:
    """A wait counts where it ended, handling where it ended, busy time split."""
    log = Log()
    log.contact(14 * 60 + 50, wait=20, talk=300, wrap=0)  # answered 09:15:10, ends 09:20:10
    rows = {(start, key): c for start, key, c in log.fold().intervals()}
    key = Key(1, 1, 7, "voice")
    at_15 = rows[T0 + timedelta(minutes=15), key]
    assert (at_15.answered, at_15.handled) == (1, 1)
    assert at_15.busy_seconds == 300


def test_a_repeat_after_the_window_is_not_one() -> None:
    log = Log()
    log.contact(0, wait=1, talk=10, conversation=5)
    log.contact(8 * 86_400, wait=1, talk=10, conversation=5)
    c = whole(log.fold(fcr_days=7))
    assert (c.completed, c.repeated) == (2, 0)
    assert kpis.fcr(c) == 1.0


def test_email_backlog_and_age() -> None:
    log = Log()
    first = log.contact(0, wait=3000, talk=60, channel="email")  # answered 09:50
    log.contact(600, wait=600, talk=60, channel="email")  # answered 09:20
    rows = log.fold()
    rows.close(T0 + timedelta(hours=1))
    by_end = {
        c.backlog_at: c for _, key, c in rows.intervals() if key.channel == "email" and c.backlog_at
    }
    at_0915 = by_end[(T0 + timedelta(minutes=15)).timestamp()]
    assert (at_0915.backlog, kpis.backlog_age(at_0915)) == (2, 900)
    at_0930 = by_end[(T0 + timedelta(minutes=30)).timestamp()]
    assert (at_0930.backlog, kpis.backlog_age(at_0930)) == (1, 1800)
    at_1000 = by_end[(T0 + timedelta(hours=1)).timestamp()]
    assert (at_1000.backlog, kpis.backlog_age(at_1000)) == (0, None)
    assert first == 1
    hour = roll_up(
        ((s, Key(channel=k.channel), c) for s, k, c in rows.intervals()),
        span=timedelta(hours=1),
    )
    assert hour[T0, Key(channel="email")].backlog == 0


def test_ratios_of_nothing_are_none() -> None:
    assert all(value is None for value in kpis.figures(Counters()).values())


def test_roll_up_refuses_a_span_not_of_intervals() -> None:
    with pytest.raises(ValueError, match="multiple of 15 minutes"):
        roll_up([], span=timedelta(minutes=10))


# -------------------------------------------------------------- the algebra

seconds = st.integers(0, 10_000).map(float)
levels = st.one_of(
    st.just((None, 0, None)),
    st.tuples(st.integers(0, 4).map(lambda i: float(i * 900)), st.integers(0, 9), seconds),
)


@st.composite
def counters(draw: st.DrawFn) -> Counters:
    values: dict[str, Any] = {}
    for f in fields(Counters):
        if f.name.startswith("backlog"):
            continue
        values[f.name] = draw(seconds if f.type == "float" else st.integers(0, 1000))
    at, backlog, oldest = draw(levels)
    return Counters(**values, backlog_at=at, backlog=backlog, backlog_oldest=oldest)


@given(counters(), counters(), counters())
def test_merging_is_associative(a: Counters, b: Counters, c: Counters) -> None:
    assert (a + b) + c == a + (b + c)


@given(counters(), counters())
def test_merging_is_commutative(a: Counters, b: Counters) -> None:
    assert a + b == b + a


@given(counters())
def test_zero_is_neutral(a: Counters) -> None:
    assert a + Counters() == a


@st.composite
def hours_of_traffic(draw: st.DrawFn) -> Log:
    """Random contacts and presence changes within two hours, on two queues."""
    log = Log()
    for agent in (7, 8):
        moments = sorted(draw(st.lists(st.integers(0, 7200), max_size=4)))
        for i, at in enumerate(moments):
            log.presence(agent, at, "available" if i % 2 == 0 else "not_ready")
    for _ in range(draw(st.integers(0, 25))):
        log.contact(
            float(draw(st.integers(0, 7000))),
            wait=float(draw(st.integers(0, 600))),
            answered=draw(st.booleans()),
            talk=float(draw(st.integers(0, 900))),
            hold=float(draw(st.integers(0, 120))),
            wrap=float(draw(st.integers(0, 60))),
            agent=draw(st.sampled_from((7, 8))),
            queue=draw(st.sampled_from((1, 2))),
            conversation=draw(st.integers(1, 4)),
            channel=draw(st.sampled_from(("voice", "email"))),
        )
    return log


@settings(max_examples=60, deadline=None)
@given(hours_of_traffic())
def test_four_intervals_roll_up_to_the_hour(log: Log) -> None:
    end = T0 + timedelta(hours=4)
    quarter, hour = log.fold(), log.fold(step=3600)
    quarter.close(end)
    hour.close(end)
    rolled = roll_up(quarter.intervals(), span=timedelta(hours=1))
    direct = {(start, key): c for start, key, c in hour.intervals()}
    assert rolled.keys() == direct.keys()
    for row, c in direct.items():
        assert rolled[row] == c


@settings(max_examples=60, deadline=None)
@given(hours_of_traffic())
def test_ratios_are_shares(log: Log) -> None:
    fold = log.fold()
    rows = [c for _, _, c in fold.intervals()]
    for c in [*rows, total(rows)]:
        for name, value in kpis.figures(c).items():
            if value is not None and not name.endswith("seconds") and name != "backlog":
                assert 0.0 <= value <= 1.0, name


@settings(max_examples=40, deadline=None)
@given(hours_of_traffic(), st.integers(0, 200))
def test_a_fold_resumed_from_its_saved_state_gives_the_same_rows(log: Log, cut: int) -> None:
    events = sorted(log.events, key=lambda e: (e.occurred_at, e.id))
    whole_fold = log.fold()
    first = KpiFold(targets={1: QueueTargets(20, 5)}).feed_all(events[:cut])
    saved = json.loads(json.dumps(first.state()))
    second = KpiFold(targets={1: QueueTargets(20, 5)}).resume(saved).feed_all(events[cut:])
    merged = dict(first.rows)
    for row, c in second.rows.items():
        merged[row] = merged.get(row, Counters()) + c
    assert merged == whole_fold.rows


# ------------------------------------------------- the fast path, the definition


class StraightFold(KpiFold):
    """The fold by the definition: every fact a ``Counters`` value, merged with ``+``
    into rows keyed by ``Key``."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.straight: dict[tuple[int, Key], Counters] = {}

    def _add(self, start: int, key: kpis.KeyValues, parts: kpis.Parts) -> None:
        row = (start, Key(*key))
        counters = Counters(**{kpis.COUNTER_FIELDS[i]: value for i, value in parts})
        self.straight[row] = self.straight.get(row, Counters()) + counters

    def _add_level(
        self, start: int, key: kpis.KeyValues, level: tuple[float, int, float | None]
    ) -> None:
        at, backlog, oldest = level
        row = (start, Key(*key))
        counters = Counters(backlog_at=at, backlog=backlog, backlog_oldest=oldest)
        self.straight[row] = self.straight.get(row, Counters()) + counters


STATES = ("created", "queued", "offered", "active", "held", "wrap_up", "ended", "abandoned")


@st.composite
def any_log(draw: st.DrawFn) -> list[LogEvent]:
    """Events in any order of states, including moves no service makes (a leg seen
    first mid-way, a transfer from hold, an end while queued), on two queues and
    channels, with presence changes."""
    events: list[LogEvent] = []
    at = 0.0
    for i in range(draw(st.integers(0, 60))):
        at += draw(st.integers(0, 700))
        kind = draw(st.sampled_from(("created", "changed", "changed", "changed", "presence")))
        entity = draw(st.integers(1, 6))
        site = draw(st.sampled_from((1, 2, None)))
        payload: dict[str, Any]
        if kind == "presence":
            type_ = "agent.presence_changed"
            payload = {"presence": draw(st.sampled_from(("available", "not_ready", "offline")))}
        else:
            type_ = "interaction.created" if kind == "created" else "interaction.state_changed"
            payload = {
                "conversation_id": draw(st.integers(1, 3)),
                "channel": draw(st.sampled_from(("voice", "email"))),
                "queue_id": draw(st.sampled_from((1, 2))),
                "state": draw(st.sampled_from(STATES)),
                "previous": draw(st.sampled_from(STATES)),
                "agent_id": draw(st.sampled_from((7, 8, None))),
                "direction": draw(st.sampled_from(("inbound", "outbound"))),
            }
        events.append(LogEvent(i + 1, type_, entity, T0 + timedelta(seconds=at), payload, site))
    return events


@settings(max_examples=100, deadline=None)
@given(any_log(), st.integers(0, 70))
def test_the_fast_fold_equals_the_definition(events: list[LogEvent], cut: int) -> None:
    options: dict[str, Any] = {"targets": {1: QueueTargets(20, 5)}, "fcr_days": 0.01}
    fast = KpiFold(**options).feed_all(events[:cut])
    straight = StraightFold(**options).feed_all(events[:cut])
    # Taking the rows in batches changes nothing: the rest goes on from the same state.
    first = fast.take_tallies()
    fast.feed_all(events[cut:])
    straight.feed_all(events[cut:])
    end = T0 + timedelta(days=1)
    fast.close(end)
    straight.close(end)
    rows: dict[tuple[int, Key], Counters] = {}
    for tallies in (first, fast.take_tallies()):
        for (start, key), tally in tallies.items():
            row = (start, Key(*key))
            rows[row] = rows.get(row, Counters()) + Counters(*tally)
    assert rows == straight.straight
    assert fast.rows == {}


@given(counters(), counters())
def test_merging_tallies_is_adding_counters(a: Counters, b: Counters) -> None:
    tally = kpis.new_tally()
    kpis.merge_tally(tally, [getattr(a, f.name) for f in fields(Counters)])
    kpis.merge_tally(tally, [getattr(b, f.name) for f in fields(Counters)])
    assert Counters(*tally) == Counters() + a + b
