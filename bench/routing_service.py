"""The routing service's throughput on a real database: the active router taking in new
tasks, offering them, and agents accepting and completing them, each batch written in
one transaction.

Builds one site, 10 voice queues and ``--agents`` agents (capacity voice 1, each able
to serve two queues), then ``--tasks`` interactions with their tasks (created through
the service, as the API does). Then, timed:
- intake: the router takes in every task (``submit`` commands), offers as many as
  agents can take, and writes it all;
- cycle: agents accept their offers and complete them (``accept``, then ``complete``
  commands); each completion frees an agent, who is offered the next task; until every
  task is done.
Prints a table, then one JSON line with ``intake_tasks_per_s``, ``cycle_tasks_per_s``
and the batch latencies.

    python bench/routing_service.py [--agents 100] [--tasks 2000] [--database-url URL]

Without ``--database-url`` it runs on a fresh SQLite file; give a PostgreSQL URL (an
empty database) to measure there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, update

from opencx.core.enums import Channel, Direction, PresenceState, Role
from opencx.core.permissions import Principal
from opencx.db import migrate
from opencx.db.models import RoutingTask, User
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.conversations import ConversationCreate, create_conversation
from opencx.features.conversations.interactions import InteractionCreate, create_interaction
from opencx.features.customers.schemas import CustomerCreate
from opencx.features.customers.service import create_customer
from opencx.features.directory.queues import QueueCreate, create_queue
from opencx.features.directory.sites import SiteCreate, create_site
from opencx.features.directory.skills import SkillCreate, create_skill
from opencx.features.routing.commands import CommandKind, enqueue
from opencx.features.routing.engine import RoutingEngine
from opencx.features.routing.leadership import Leadership
from opencx.features.routing.tasks import TaskCreate, create_task
from opencx.features.users.agents import SkillLevel, set_user_skills
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.runtime import build_context
from opencx.settings import DatabaseSettings, Settings

QUEUES = 10


async def setup(ctx: AppContext, agents: int, tasks: int) -> None:
    root = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=root.id, role=Role.ADMIN)
    site = await create_site(ctx, admin, SiteCreate(name="Lyon"))
    queue_ids = []
    for q in range(QUEUES):
        skill = await create_skill(ctx, admin, SkillCreate(name=f"s{q}"))
        queue = await create_queue(
            ctx,
            admin,
            QueueCreate(
                name=f"Queue {q}",
                channel=Channel.VOICE,
                site_id=site.id,
                target_expression=f"skills.s{q} >= 1",
                wrap_up_seconds=0,
            ),
        )
        queue_ids.append((queue.id, skill.id))
    for n in range(agents):
        user = await create_user_as_system(
            ctx,
            UserCreate(
                email=f"agent{n}@example.com",
                role=Role.AGENT,
                site_id=site.id,
                capacity={"voice": 1},
            ),
        )
        skills = [SkillLevel(skill_id=queue_ids[(n + k) % QUEUES][1], level=1) for k in (0, 1)]
        await set_user_skills(ctx, admin, user.id, skills)
    async with transaction(ctx) as session:
        await session.execute(
            update(User).where(User.role == Role.AGENT).values(presence=PresenceState.AVAILABLE)
        )
    customer = await create_customer(ctx, admin, CustomerCreate(display_name="Ada"))
    conversation = await create_conversation(
        ctx, admin, ConversationCreate(customer_id=customer.id)
    )
    for n in range(tasks):
        interaction = await create_interaction(
            ctx,
            admin,
            conversation.id,
            InteractionCreate(channel=Channel.VOICE, direction=Direction.INBOUND),
        )
        queue_id = queue_ids[n % QUEUES][0]
        await create_task(ctx, admin, TaskCreate(interaction_id=interaction.id, queue_id=queue_id))


async def drain(engine: RoutingEngine, batches: list[float]) -> None:
    """Step the router until its inbox is empty; record each batch's duration."""
    while True:
        started = time.perf_counter()
        more = await engine.step()
        batches.append(time.perf_counter() - started)
        if not more:
            return


async def cycle(ctx: AppContext, engine: RoutingEngine, tasks: int, batches: list[float]) -> int:
    """Agents accept what they were offered and complete it, until every task is done."""
    done = 0
    while done < tasks:
        async with transaction(ctx) as session:
            rows = list(
                await session.scalars(
                    select(RoutingTask).where(RoutingTask.status.in_(("reserved", "assigned")))
                )
            )
            if not rows:
                raise RuntimeError("no task is offered or assigned: routing stalled")
            for row in rows:
                kind = CommandKind.ACCEPT if row.status == "reserved" else CommandKind.COMPLETE
                await enqueue(session, ctx, kind, task_id=row.id, worker_id=row.worker_id)
                done += kind is CommandKind.COMPLETE
        await drain(engine, batches)
    return done


def summary(name: str, batches: list[float]) -> dict[str, float]:
    ordered = sorted(batches)
    return {
        f"{name}_batch_p50_ms": round(statistics.median(ordered) * 1000, 2),
        f"{name}_batch_max_ms": round(ordered[-1] * 1000, 2),
    }


async def main(agents: int, tasks: int, url: str) -> dict[str, float | int | str]:
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(migrate.upgrade, settings.database)
    ctx = build_context(settings)
    try:
        started = time.perf_counter()
        await setup(ctx, agents, tasks)
        created = time.perf_counter() - started
        leadership = Leadership(ctx)
        await leadership.acquire()
        engine = RoutingEngine(ctx, leadership)
        await engine.restore()

        intake: list[float] = []
        started = time.perf_counter()
        await drain(engine, intake)
        intake_s = time.perf_counter() - started

        work: list[float] = []
        started = time.perf_counter()
        completed = await cycle(ctx, engine, tasks, work)
        cycle_s = time.perf_counter() - started
        await leadership.release()
    finally:
        await ctx.engine.dispose()
    return {
        "database": ctx.engine.dialect.name,
        "agents": agents,
        "tasks": tasks,
        "setup_s": round(created, 1),
        "intake_tasks_per_s": round(tasks / intake_s, 1),
        **summary("intake", intake),
        "cycle_tasks_per_s": round(completed / cycle_s, 1),
        **summary("cycle", work),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        figures = asyncio.run(main(args.agents, args.tasks, url))
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))
