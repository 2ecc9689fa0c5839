"""Interval figures over a large event log: materialising the 15-minute counters from
the log, and reading KPIs from them.

Writes ``--events`` events (10 million by default) of a contact center over about
``--days`` days into a fresh database (SQLite: ``executemany`` in large batches;
PostgreSQL: ``COPY``): contacts created, queued, offered, answered, held, wrapped up and
ended, or abandoned, with agents' presence; e-mail legs wait for hours. Then it times
``rebuild_intervals`` (the whole log folded into ``report_intervals``) and the reports
a supervisor asks for (best of three, each with its JSON): one week by queue in
15-minute rows (days 1-8), one day by agent in 15-minute rows (day 2), and the whole
run by queue by day. A report reads the rows of its range only: a shorter run at the
same events per day (``--events 3000000 --days 8`` is 10 million over 28 days' rate)
times the same reports on the same number of rows.
Prints one JSON line last; ``report_s`` is the slowest of those reports.

    python bench/reports.py [--events 10000000] [--days 28] [--database-url URL]

``--database-url`` names a PostgreSQL server (``postgresql://postgres@127.0.0.1/postgres``):
a database is created there for the run and dropped after. Without it, an SQLite file
in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, insert, text

from opencx.core.enums import Channel, Role, SiteKind
from opencx.core.permissions import Principal
from opencx.db.models import Queue, Site
from opencx.features.context import transaction
from opencx.features.reports import Group, Step, interval_report, rebuild_intervals, report_json
from opencx.runtime import build_context, upgrade_database
from opencx.settings import DatabaseSettings, Settings

START = datetime(2026, 1, 5, tzinfo=UTC)
QUEUES, SITES, AGENTS = 20, 4, 200
CHUNK = 100_000
#: Events per contact on average (abandons: 3; others 6, or 8 with a hold).
EVENTS_PER_CONTACT = 6.17
Row = tuple[str, int, float, int, dict[str, Any]]


def contact_events(
    rng: random.Random, iid: int, at: float
) -> list[tuple[str, float, dict[str, Any]]]:
    """One contact's events: (type, seconds from START, payload)."""
    queue = rng.randrange(1, QUEUES + 1)
    channel = "email" if queue > QUEUES - 3 else "voice"
    conv = rng.randrange(1, 1 + iid // 2 + 1)
    base = {"conversation_id": conv, "channel": channel, "queue_id": queue}
    wait = rng.expovariate(1 / (3600 if channel == "email" else 25))
    out: list[tuple[str, float, dict[str, Any]]] = [
        ("interaction.created", at, {**base, "state": "created", "direction": "inbound"}),
        ("interaction.state_changed", at, {**base, "state": "queued", "previous": "created"}),
    ]
    if channel == "voice" and rng.random() < 0.08:
        out.append(
            (
                "interaction.state_changed",
                at + wait,
                {**base, "state": "abandoned", "previous": "queued"},
            )
        )
        return out
    agent = rng.randrange(1, AGENTS + 1)
    t = at + wait
    steps = [("offered", "queued", t - min(wait, 2)), ("active", "offered", t)]
    t += rng.uniform(60, 400)
    if rng.random() < 0.2:
        steps += [("held", "active", t), ("active", "held", t + 30)]
        t += 30
    steps += [("wrap_up", "active", t), ("ended", "wrap_up", t + rng.uniform(5, 60))]
    for state, previous, moment in steps:
        payload = {**base, "state": state, "previous": previous, "agent_id": agent}
        out.append(("interaction.state_changed", moment, payload))
    return out


def generate(events: int, days: int, seed: int = 1) -> Iterator[Row]:
    """(type, entity id, seconds from START, site, payload), in time order, streamed:
    contacts arrive at random (about ``days`` days for ``events`` events) and their
    later events wait in a heap until their time comes."""
    rng = random.Random(seed)
    rate = events / (days * 86_400.0) / EVENTS_PER_CONTACT  # contacts per second
    pending: list[tuple[float, int, Row]] = []
    seq = 0
    for agent in range(1, AGENTS + 1):
        for day in range(days + 7):
            for at, presence in (
                (day * 86_400.0 + 8 * 3600, "available"),
                (day * 86_400.0 + 17 * 3600, "offline"),
            ):
                seq += 1
                row = (
                    "agent.presence_changed",
                    agent,
                    at,
                    1 + agent % SITES,
                    {"presence": presence},
                )
                pending.append((at, seq, row))
    heapq.heapify(pending)
    iid, now = 0, 0.0
    while True:
        now += rng.expovariate(rate)
        while pending and pending[0][0] <= now:
            yield heapq.heappop(pending)[2]
        iid += 1
        site = 1 + iid % SITES
        for type_, moment, payload in contact_events(rng, iid, now):
            seq += 1
            heapq.heappush(pending, (moment, seq, (type_, iid, moment, site, payload)))


def _kind(type_: str) -> str:
    return "user" if type_.startswith("agent") else "interaction"


def fill(url: str, rows: Iterator[Row]) -> None:
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(
            insert(Site),
            [
                {"id": s, "name": f"site {s}", "kind": SiteKind.INTERNAL}
                for s in range(1, SITES + 1)
            ],
        )
        db.execute(
            insert(Queue),
            [
                {
                    "id": q,
                    "name": f"queue {q}",
                    "channel": Channel.EMAIL if q > QUEUES - 3 else Channel.VOICE,
                    "service_level_seconds": 3600 * 4 if q > QUEUES - 3 else 20,
                    "short_abandon_seconds": 5,
                }
                for q in range(1, QUEUES + 1)
            ],
        )
    engine.dispose()
    if url.startswith("sqlite"):
        _fill_sqlite(url.removeprefix("sqlite:///"), rows)
    else:
        _fill_postgresql(url.replace("postgresql+psycopg://", "postgresql://"), rows)


_COLUMNS = "type, entity_kind, entity_id, site_id, payload, occurred_at"


def _fill_sqlite(path: str, rows: Iterator[Row]) -> None:
    """``executemany`` in batches, the columns as SQLAlchemy stores them on SQLite
    (JSON text, naive UTC datetimes)."""
    db = sqlite3.connect(path)
    start = START.replace(tzinfo=None)
    sql = f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
    while batch := list(islice(rows, CHUNK)):
        with db:
            db.executemany(
                sql,
                [
                    (
                        t,
                        _kind(t),
                        e,
                        s,
                        json.dumps(p),
                        (start + timedelta(seconds=at)).isoformat(" ", "microseconds"),
                    )
                    for t, e, at, s, p in batch
                ],
            )
    db.close()


def _fill_postgresql(url: str, rows: Iterator[Row]) -> None:
    with psycopg.connect(url) as db, db.cursor() as cursor:
        with cursor.copy(f"COPY events ({_COLUMNS}) FROM STDIN") as copy:
            for t, e, at, s, p in rows:
                copy.write_row((t, _kind(t), e, s, json.dumps(p), START + timedelta(seconds=at)))
        cursor.execute("ANALYZE events")


#: The reports timed: (name, offset of the first day, days (0: the whole run), group, step).
REPORTS = (
    ("week_by_queue", 1, 7, Group.QUEUE, Step.INTERVAL),
    ("day_by_agent", 2, 1, Group.AGENT, Step.INTERVAL),
    ("all_days_by_queue_by_day", 0, 0, Group.QUEUE, Step.DAY),
)


async def measure(settings: Settings, run_days: int) -> dict[str, Any]:
    ctx = build_context(settings)
    admin = Principal(user_id=1, role=Role.ADMIN)
    try:
        started = time.perf_counter()
        folded = await rebuild_intervals(ctx)
        rebuild_s = time.perf_counter() - started
        print(f"rebuild: {folded} events in {rebuild_s:.1f} s, {folded / rebuild_s:,.0f} events/s")
        async with transaction(ctx) as session:
            await session.execute(text("ANALYZE"))
            stored = (await session.execute(text("SELECT count(*) FROM report_intervals"))).scalar()
        reports: dict[str, float] = {}
        for name, offset, days, group, step in REPORTS:
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                report = await interval_report(
                    ctx,
                    admin,
                    since=START + timedelta(days=offset),
                    until=START + timedelta(days=offset + (days or run_days)),
                    group=group,
                    step=step,
                )
                body = report_json(report)
                best = min(best, time.perf_counter() - started)
            reports[name] = round(best, 3)
            print(
                f"report {name}: {best:.3f} s, {len(report['intervals'])} rows, "
                f"{len(report['totals'])} totals, {len(body) / 1e6:.1f} MB of JSON"
            )
        return {
            "folded": folded,
            "rebuild_s": round(rebuild_s, 1),
            "rebuild_events_per_s": round(folded / rebuild_s),
            "interval_rows": stored,
            **{f"report_{k}_s": v for k, v in reports.items()},
            "report_s": max(reports.values()),
        }
    finally:
        await ctx.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    pg_admin = args.database_url
    if pg_admin:
        name = f"opencx_bench_reports_{int(time.time())}"
        admin_engine = create_engine(
            pg_admin.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin_engine.connect() as db:
            db.execute(text(f"CREATE DATABASE {name}"))
        url = pg_admin.rsplit("/", 1)[0] + f"/{name}"
    else:
        folder = tempfile.mkdtemp()
        url = f"sqlite:///{Path(folder) / 'reports.db'}"
    settings = Settings(database=DatabaseSettings(url=url), _env_file=None)  # type: ignore[call-arg]
    try:
        upgrade_database(settings)
        started = time.perf_counter()
        rows = islice(generate(args.events, args.days), args.events)
        fill(url.replace("postgresql://", "postgresql+psycopg://"), rows)
        write_s = time.perf_counter() - started
        print(f"wrote {args.events} events in {write_s:.0f} s", flush=True)
        result = asyncio.run(measure(settings, min(args.days, 31)))
    finally:
        if pg_admin:
            with admin_engine.connect() as db:
                db.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        else:
            shutil.rmtree(folder, ignore_errors=True)
    backend = "postgresql" if pg_admin else "sqlite"
    print(
        json.dumps({"backend": backend, "events": args.events, "write_s": round(write_s), **result})
    )


if __name__ == "__main__":
    main()
