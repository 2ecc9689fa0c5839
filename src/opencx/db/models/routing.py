"""Routing state as stored: workflows, tasks, reservations, agents' routing state, the
router's inbox of commands and its leadership.

The active router keeps the same state in memory (``opencx.core.routing``); these rows
are what it restarts from, so they hold everything a snapshot needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from opencx.core.enums import Channel, ReservationState, TaskStatus
from opencx.db.base import Base, utcnow
from opencx.db.types import JSONType, str_enum

_LIVE_RESERVATION = "state IN ('pending', 'accepted')"


class RoutingWorkflow(Base):
    """Each saved version of the workflow; the newest is the one routing uses."""

    __tablename__ = "routing_workflows"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RoutingTask(Base):
    """One interaction being routed. ``status`` is ``new`` until the router has taken
    it in, then the router's (waiting, reserved, assigned), then how it ended
    (completed, canceled, fallback, refused): ``core.lifecycles.TASK_EVENTS``."""

    __tablename__ = "routing_tasks"
    __table_args__ = (Index("ix_routing_tasks_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interactions.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    base_priority: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime | None]
    # Where the task was sent at creation, instead of the workflow.
    requested_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    requested_worker_ids: Mapped[list[int] | None] = mapped_column(JSONType)
    status: Mapped[TaskStatus] = mapped_column(
        str_enum(TaskStatus, length=16), default=TaskStatus.NEW
    )
    priority: Mapped[int | None]
    filter_index: Mapped[int | None]
    step_index: Mapped[int | None]
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    pinned: Mapped[list[int] | None] = mapped_column(JSONType)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    # {worker id: epoch seconds until which the task is not offered to them again}
    excluded: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)
    callback: Mapped[bool] = mapped_column(default=False)
    fallback_action: Mapped[str | None] = mapped_column(String(32))
    end_reason: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RoutingReservation(Base):
    """One offer of a task to an agent, and what became of it. A task has at most one
    live (pending or accepted) reservation: the partial unique index is the last guard
    against assigning it twice."""

    __tablename__ = "routing_reservations"
    __table_args__ = (
        Index(
            "uq_routing_reservations_live_task",
            "task_id",
            unique=True,
            sqlite_where=text(_LIVE_RESERVATION),
            postgresql_where=text(_LIVE_RESERVATION),
        ),
        Index("ix_routing_reservations_worker_state", "worker_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("routing_tasks.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    state: Mapped[ReservationState] = mapped_column(str_enum(ReservationState, length=16))
    callback: Mapped[bool] = mapped_column(default=False)
    offered_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # When the agent accepted it: since when they have the contact in hand.
    accepted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class RoutingWorker(Base):
    """What routing remembers of an agent beyond their profile: since when they are
    idle, offers missed in a row, and wrap-ups running (``[{task_id, channel, until}]``,
    ``until`` in epoch seconds)."""

    __tablename__ = "routing_workers"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    idle_since: Mapped[datetime] = mapped_column(default=utcnow)
    missed_offers: Mapped[int] = mapped_column(default=0)
    wraps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


class RoutingCommand(Base):
    """The router's inbox: what other processes ask of it, done in id order by the active
    router, which writes ``done_at`` and, when it refused, ``error`` (a problem)."""

    __tablename__ = "routing_commands"
    __table_args__ = (Index("ix_routing_commands_pending", "done_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[int | None]
    worker_id: Mapped[int | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actor_user_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class RoutingLeadership(Base):
    """One row: the current leadership ``epoch``. A router that takes over increments it,
    and every write of a router checks it still holds its epoch (fencing), so a router
    that lost its leadership cannot write."""

    __tablename__ = "routing_leadership"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[int] = mapped_column(default=0)
    holder: Mapped[str] = mapped_column(String(200), default="")
    since: Mapped[datetime] = mapped_column(default=utcnow)


class QueueStats(Base):
    """Per queue, written by the active router about once a second: tasks waiting and
    the estimated wait of a newcomer (``None``: nobody who could serve it is logged in)."""

    __tablename__ = "routing_queue_stats"

    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    waiting: Mapped[int] = mapped_column(default=0)
    free_agents: Mapped[int] = mapped_column(default=0)
    # Tasks the logged-in agents who serve the queue can hold at once on its channel.
    slots: Mapped[int] = mapped_column(default=0)
    estimated_wait_seconds: Mapped[float | None]
    average_handle_seconds: Mapped[float | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
