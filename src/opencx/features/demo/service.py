"""The demo's simulation: a background service of the server that keeps the contact
center alive with simulated customers and agents (docs/demo.md).

Rules:
- it runs only when ``demo.simulation`` is set (``opencx demo`` sets it, unless
  ``--no-simulation``); otherwise the service waits, doing nothing, until the server
  stops, so ``opencx serve`` never simulates unless told to;
- the traffic is ``opencx.simulation.demo_traffic``'s, seeded by ``demo.seed`` (a new
  seed each start when unset), at ``demo.contacts_per_minute`` per written channel;
  ``demo.speed`` divides every wait (tests run it fast);
- each visit (a customer's opening, then their follow-up) and each offer to a
  simulated agent is its own task; one that fails is logged and the rest go on, and
  the loops themselves log and go on after any error;
- stopping the server stops the simulation between steps, never in the middle of one
  (a step cut in half would leave its transaction's lock behind): every wait ends at
  once, each step under way finishes (at most ``STOP_SECONDS``, then it is cancelled),
  and the simulated agents go offline.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from typing import Any

import structlog

from opencx.features.context import AppContext
from opencx.features.demo.agents import SimulatedAgents
from opencx.features.demo.customers import Accounts, load_accounts, write_first, write_follow_up
from opencx.features.demo.pacing import Pacer, Stopped
from opencx.simulation.demo_traffic import DemoTraffic, Pace, Visit

__all__ = ["DemoSimulation", "demo_simulation_service"]

log = structlog.get_logger(__name__)
#: The longest a simulated agent's new offer waits to be seen (real seconds).
POLL_SECONDS = 1.0
#: The pause after a loop's unexpected error, before it goes on (real seconds).
ERROR_PAUSE_SECONDS = 1.0
#: How long the steps under way may take to finish when the simulation stops: a write
#: takes milliseconds; an action waiting for the router's answer (the router stops with
#: the server, so none comes) holds no transaction and is cancelled after this.
STOP_SECONDS = 2.0


async def demo_simulation_service(ctx: AppContext) -> None:
    """The server's background service: the simulation when enabled, else nothing."""
    if not ctx.settings.demo.simulation:
        await asyncio.Event().wait()
    await DemoSimulation(ctx).run()


class DemoSimulation:
    """Simulated customers arriving, and simulated agents answering them."""

    def __init__(self, ctx: AppContext) -> None:
        settings = ctx.settings.demo
        seed = settings.seed if settings.seed is not None else random.randrange(2**32)  # noqa: S311
        self.ctx = ctx
        self.pacer = Pacer(settings.speed)
        self.traffic = DemoTraffic(
            seed=seed, pace=Pace(contacts_per_minute=settings.contacts_per_minute)
        )
        #: The visits of this run, by conversation: what their agents answer.
        self.visits: dict[int, Visit] = {}
        self.agents = SimulatedAgents(ctx, self.traffic, visits=self.visits, pacer=self.pacer)
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Run until cancelled (the server stops), then stop between steps."""
        try:
            accounts, agents = await self._start()
            log.info(
                "demo_simulation_started",
                channels=sorted(accounts.channels()),
                simulated_agents=agents,
                speed=self.pacer.speed,
            )
            self._spawn(self._customers(accounts))
            self._spawn(self._offers())
            await asyncio.Event().wait()
        finally:
            await self._stop()

    async def _start(self) -> tuple[Accounts, int]:
        """The demo's accounts and agents, read again after a failure until they are."""
        while True:
            try:
                return await load_accounts(self.ctx), await self.agents.start()
            except Exception:
                log.exception("demo_simulation_not_started; trying again")
                await self.pacer.wait_real(ERROR_PAUSE_SECONDS)

    async def _customers(self, accounts: Accounts) -> None:
        if not accounts.channels():
            log.warning("demo_simulation_without_channels")
            return
        while True:
            gap, visit = self.traffic.next_visit()
            await self.pacer.wait(gap)
            if visit.channel in accounts.addresses:
                self._spawn(self._visit(visit, accounts))

    async def _visit(self, visit: Visit, accounts: Accounts) -> None:
        thread = await write_first(self.ctx, visit, accounts)
        self.visits[thread.conversation_id] = visit
        await self.pacer.wait(visit.follow_up_after)
        await write_follow_up(self.ctx, thread, accounts)

    async def _offers(self) -> None:
        while True:
            try:
                for offer in await self.agents.pending():
                    self.agents.working.add(offer.reservation_id)
                    self._spawn(self.agents.work(offer))
            except Exception:
                log.exception("demo_offers_not_read")
                await self.pacer.wait_real(ERROR_PAUSE_SECONDS)
            await self.pacer.wait_real(
                min(POLL_SECONDS, max(POLL_SECONDS / self.pacer.speed, 0.02))
            )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(_logged(work))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _stop(self) -> None:
        self.pacer.stop()
        if self.tasks:
            _, late = await asyncio.wait(set(self.tasks), timeout=STOP_SECONDS)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        try:
            await self.agents.stop()
        except Exception:
            log.exception("demo_agents_not_taken_offline")
        log.info("demo_simulation_stopped")


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    try:
        await work
    except Stopped:
        return
    except Exception:
        log.exception("demo_simulation_step_failed")
