"""Report tables: 15-minute interval counters materialised from the event log.

Every row is a ``core.kpis.Counters`` of one interval and key (queue, site, agent,
channel; ``None`` where it does not apply). They are derived data: ``opencx reports
rebuild`` deletes and recomputes them from the event log, with the same result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db.base import Base
from opencx.db.types import JSONType

BigId = BigInteger().with_variant(Integer(), "sqlite")


class _Counters:
    """The columns of a ``core.kpis.Counters``."""

    offered: Mapped[int] = mapped_column(default=0)
    transferred_in: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    answered_in_target: Mapped[int] = mapped_column(default=0)
    abandoned: Mapped[int] = mapped_column(default=0)
    abandoned_in_target: Mapped[int] = mapped_column(default=0)
    abandoned_short: Mapped[int] = mapped_column(default=0)
    deflected: Mapped[int] = mapped_column(default=0)
    answer_wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    abandon_wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    longest_wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    handled: Mapped[int] = mapped_column(default=0)
    talk_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    wrap_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    transferred: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)
    repeated: Mapped[int] = mapped_column(default=0)
    busy_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    available_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    backlog_at: Mapped[float | None] = mapped_column(Float)
    backlog: Mapped[int] = mapped_column(default=0)
    backlog_oldest: Mapped[float | None] = mapped_column(Float)


class ReportInterval(_Counters, Base):
    """The counters of one 15-minute interval and key. No foreign keys: a report
    outlives the queue or agent it names, and a rebuild writes millions of rows."""

    __tablename__ = "report_intervals"
    __table_args__ = (
        Index("ix_report_intervals_start_queue", "start", "queue_id"),
        Index("ix_report_intervals_start_agent", "start", "agent_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    start: Mapped[datetime]
    queue_id: Mapped[int | None] = mapped_column(Integer)
    site_id: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(16))


class ReportQueueInterval(_Counters, Base):
    """``report_intervals`` summed over agents: one row per interval, queue, site and
    channel, written beside them. Reports by queue or site read these, ten times fewer
    rows than with an agent in the key."""

    __tablename__ = "report_queue_intervals"
    __table_args__ = (Index("ix_report_queue_intervals_start_queue", "start", "queue_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    start: Mapped[datetime]
    queue_id: Mapped[int | None] = mapped_column(Integer)
    site_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(16))


class ReportProgress(Base):
    """Where the interval counters stand in the event log: the last event folded in
    and the fold's open state (contacts waiting or in hand, agents' presence), so the
    next run goes on from there. One row (``id`` 1)."""

    __tablename__ = "report_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
