"""Reading the routing state from the database: the configuration the router runs on,
and the whole snapshot it restarts from.

Rules:
- instants cross this edge as epoch seconds (``Instant``) one way and aware UTC
  datetimes the other; nothing else converts time;
- agents are active agents and supervisors; what routing expressions read of them is
  ``worker_attributes`` (``simulated`` marks the demo's simulated agents, whom the router
  offers only simulated contacts); a profile without capacities gets ``routing.default_capacity``;
- a queue whose stored target no longer compiles serves nobody (and says so in the
  log) rather than everybody;
- a site is closed when it is not open, else in its ``routing_state``; a queue with
  business hours is closed outside them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel, PresenceState, Role
from opencx.core.hours import is_open, next_change
from opencx.core.lifecycles import ROUTED_TASK_STATUSES
from opencx.core.routing.expressions import ExpressionError, compile_expression
from opencx.core.routing.model import (
    SIMULATED,
    FallbackAction,
    Instant,
    QueueSpec,
    Selection,
    SiteState,
    TaskSpec,
    TaskStatus,
    WorkerSpec,
    Workflow,
)
from opencx.core.routing.snapshot import Snapshot, TaskState, WorkerState, WrapUp
from opencx.db.models import (
    AgentSkill,
    BusinessHours,
    Queue,
    RoutingTask,
    RoutingWorker,
    Site,
    Skill,
    Team,
    User,
)
from opencx.features.routing.workflow import active_workflow, to_workflow
from opencx.settings import RoutingSettings

__all__ = [
    "LIVE_STATUSES",
    "RoutingConfig",
    "load_config",
    "load_snapshot",
    "load_state",
    "load_workers",
    "queue_spec",
    "task_spec",
    "to_datetime",
    "to_instant",
]

log = structlog.get_logger(__name__)

#: Task statuses the router holds; ``new`` tasks come in through SUBMIT commands.
LIVE_STATUSES = tuple(sorted(ROUTED_TASK_STATUSES))
_ROUTED_ROLES = (Role.AGENT, Role.SUPERVISOR)
_NOBODY = compile_expression("false", default_root="worker")
_DEFAULT_WORKFLOW = Workflow(filters=(), fallback=FallbackAction.VOICEMAIL)


def to_instant(moment: datetime) -> Instant:
    return moment.timestamp()


def to_datetime(instant: Instant) -> datetime:
    return datetime.fromtimestamp(instant, UTC)


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """What the router is configured with; compared field by field on reload."""

    workflow: Workflow
    queues: tuple[QueueSpec, ...]
    sites: Mapping[int, SiteState]
    closed_queues: frozenset[int]
    workers: Mapping[int, tuple[WorkerSpec, PresenceState]]
    #: When a queue's business hours next open or close (the router reloads then).
    hours_change: datetime | None = None


async def load_config(
    session: AsyncSession, settings: RoutingSettings, *, now: datetime
) -> RoutingConfig:
    queue_rows = list(await session.scalars(select(Queue).order_by(Queue.id)))
    row = await active_workflow(session)
    known = {queue.id for queue in queue_rows}
    workflow = _DEFAULT_WORKFLOW
    if row is not None:
        try:
            workflow = to_workflow(row.definition, known_queues=known)
        except Exception as exc:  # a queue deleted since: route without the workflow
            log.error("routing_workflow_invalid", version=row.id, error=str(exc))
    sites = {site.id: _site_state(site) for site in await session.scalars(select(Site))}
    closed, change = await _closed_queues(session, queue_rows, now)
    return RoutingConfig(
        workflow=workflow,
        queues=tuple(queue_spec(queue) for queue in queue_rows),
        sites=sites,
        closed_queues=closed,
        workers=await load_workers(session, settings),
        hours_change=change,
    )


async def load_workers(
    session: AsyncSession, settings: RoutingSettings, *, user_id: int | None = None
) -> dict[int, tuple[WorkerSpec, PresenceState]]:
    users = select(User).where(User.is_active.is_(True), User.role.in_(_ROUTED_ROLES))
    skills = select(AgentSkill.user_id, Skill.name, AgentSkill.level).join(
        Skill, Skill.id == AgentSkill.skill_id
    )
    if user_id is not None:
        users = users.where(User.id == user_id)
        skills = skills.where(AgentSkill.user_id == user_id)
    levels: dict[int, dict[str, int]] = defaultdict(dict)
    for uid, name, level in await session.execute(skills):
        levels[uid][name] = level
    teams = {row.id: row.name for row in await session.execute(select(Team.id, Team.name))}
    sites = {row.id: row.name for row in await session.execute(select(Site.id, Site.name))}
    out: dict[int, tuple[WorkerSpec, PresenceState]] = {}
    for user in await session.scalars(users.order_by(User.id)):
        attributes: dict[str, Any] = {
            "id": user.id,
            "name": user.display_name,
            "role": user.role.value,
            "skills": levels.get(user.id, {}),
            "languages": list(user.languages),
            "site_id": user.site_id,
            "site": sites.get(user.site_id) if user.site_id is not None else None,
            "team_id": user.team_id,
            "team": teams.get(user.team_id) if user.team_id is not None else None,
            SIMULATED: user.simulated,
        }
        spec = WorkerSpec(
            id=user.id,
            attributes=attributes,
            capacity=_capacity(user.capacity or settings.default_capacity),
            voice_blocks_other_channels=user.voice_blocks_other_channels,
            site_id=user.site_id,
        )
        out[user.id] = (spec, user.presence)
    return out


async def load_snapshot(
    session: AsyncSession, settings: RoutingSettings, *, now: datetime
) -> Snapshot:
    return (await load_state(session, settings, now=now))[0]


async def load_state(
    session: AsyncSession, settings: RoutingSettings, *, now: datetime
) -> tuple[Snapshot, RoutingConfig]:
    """The snapshot to restart from, and the configuration it was built on (read once,
    so a change committed meanwhile is seen at the next reload, not half-applied)."""
    config = await load_config(session, settings, now=now)
    memory = {row.user_id: row for row in await session.scalars(select(RoutingWorker))}
    workers = []
    for worker_id, (spec, presence) in config.workers.items():
        row = memory.get(worker_id)
        workers.append(
            WorkerState(
                spec=spec,
                presence=presence,
                idle_since=to_instant(row.idle_since) if row else to_instant(now),
                missed_offers=row.missed_offers if row else 0,
                wraps=tuple(
                    WrapUp(int(w["task_id"]), Channel(w["channel"]), float(w["until"]))
                    for w in (row.wraps if row else [])
                ),
            )
        )
    rows = await session.scalars(
        select(RoutingTask).where(RoutingTask.status.in_(LIVE_STATUSES)).order_by(RoutingTask.id)
    )
    tasks = tuple(_task_state(row, config) for row in rows)
    snapshot = Snapshot(
        workflow=config.workflow,
        queues=config.queues,
        workers=tuple(workers),
        tasks=tasks,
        closed_queues=config.closed_queues,
        sites=dict(config.sites),
    )
    return snapshot, config


def task_spec(row: RoutingTask) -> TaskSpec:
    return TaskSpec(
        id=row.id,
        channel=row.channel,
        created_at=to_instant(row.created_at),
        attributes=dict(row.attributes),
        priority=row.base_priority,
        not_before=to_instant(row.not_before) if row.not_before is not None else None,
    )


def _task_state(row: RoutingTask, config: RoutingConfig) -> TaskState:
    known_queues = {queue.id for queue in config.queues}
    worker_id = row.worker_id if row.worker_id in config.workers else None
    status = row.status
    if worker_id is None and status is not TaskStatus.WAITING:
        # Its agent was deactivated while holding it: it waits again.
        status = TaskStatus.WAITING
    queue_id = row.queue_id if row.queue_id in known_queues else None
    filter_index = row.filter_index
    if filter_index is not None and filter_index >= len(config.workflow.filters):
        filter_index = None
    return TaskState(
        spec=task_spec(row),
        status=status,
        priority=row.priority,
        filter_index=filter_index if queue_id is not None else None,
        step_index=row.step_index if queue_id is not None and filter_index is not None else None,
        queue_id=queue_id,
        pinned=tuple(row.pinned) if row.pinned is not None else None,
        worker_id=worker_id if status is not TaskStatus.WAITING else None,
        expires_at=to_instant(row.expires_at) if row.expires_at and worker_id else None,
        accepted_at=to_instant(row.accepted_at) if row.accepted_at and worker_id else None,
        excluded={int(k): float(v) for k, v in row.excluded.items()},
        callback=row.callback,
    )


def _site_state(site: Site) -> SiteState:
    if not site.is_open:
        return SiteState.CLOSED
    try:
        return SiteState(site.routing_state)
    except ValueError:
        return SiteState.OPEN


def queue_spec(queue: Queue) -> QueueSpec:
    try:
        target = compile_expression(queue.target_expression, default_root="worker")
    except ExpressionError as exc:
        log.error("routing_queue_target_invalid", queue_id=queue.id, error=exc.detail)
        target = _NOBODY
    try:
        selection = Selection(queue.selection)
    except ValueError:
        selection = Selection.LONGEST_IDLE
    return QueueSpec(
        id=queue.id,
        name=queue.name,
        channel=queue.channel,
        target=target,
        site_id=queue.site_id,
        wrap_up_seconds=float(queue.wrap_up_seconds),
        selection=selection,
        skill=queue.selection_skill,
        expected_handle_seconds=float(queue.expected_handle_seconds),
    )


async def _closed_queues(
    session: AsyncSession, queues: list[Queue], now: datetime
) -> tuple[frozenset[int], datetime | None]:
    """The queues closed by their hours now, and when any of those hours next change."""
    wanted = {queue.business_hours_id for queue in queues if queue.business_hours_id}
    if not wanted:
        return frozenset(), None
    schedules = await session.scalars(select(BusinessHours).where(BusinessHours.id.in_(wanted)))
    open_now: dict[int, bool] = {}
    changes: list[datetime] = []
    for hours in schedules:
        holidays: dict[date, list[dict[str, str]]] = {
            holiday.day: holiday.special_hours for holiday in hours.holidays
        }
        open_now[hours.id] = is_open(hours.weekly, holidays, hours.timezone, now)
        change = next_change(hours.weekly, holidays, hours.timezone, now)
        if change is not None:
            changes.append(change)
    closed = frozenset(
        queue.id
        for queue in queues
        if queue.business_hours_id and not open_now.get(queue.business_hours_id, True)
    )
    return closed, min(changes, default=None)


def _capacity(raw: Mapping[str, int]) -> dict[Channel, int]:
    capacity: dict[Channel, int] = {}
    for key, value in raw.items():
        try:
            capacity[Channel(key)] = int(value)
        except ValueError:
            continue
    return capacity
