"""The demo's simulated agents at work, through the actions a person's desktop uses.

Rules:
- the simulated agents are the active users marked ``simulated``; each acts as
  themselves (their own ``Principal``), so every permission and rule applies as to a
  person: they go available, accept the offers routing makes them (only simulated
  customers' contacts: ``core.routing.model.serves``), answer, complete, code the
  contact on the three axes of reasons, end the wrap-up, and now and then take a break;
- an offer is worked once, by one coroutine, with the timing of its ``AgentTurn``
  divided by the simulation's speed (``Pacer``); an action the router refuses (the
  customer left, the offer timed out) ends that offer's work and nothing else;
- on stopping, the simulated agents go offline (routing withdraws their offers).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import structlog
from sqlalchemy import select

from opencx.core.enums import AuthorKind, Channel, Direction, PresenceState, ReasonAxis
from opencx.core.errors import OpenCXError
from opencx.core.permissions import Principal
from opencx.core.routing.model import ReservationState
from opencx.db.models import ContactReason, Interaction, RoutingReservation, RoutingTask, User
from opencx.features.auth.principals import load_principal
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.messages import MessageCreate, post_message
from opencx.features.conversations.wrap_up import WrapUpCoding, code_interaction
from opencx.features.demo.pacing import Pacer
from opencx.features.routing.commands import CommandKind
from opencx.features.routing.tasks import act_on_reservation, act_on_task
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.simulation.demo_traffic import GENERIC_ANSWER, AgentTurn, DemoTraffic, Visit

__all__ = ["Offer", "SimulatedAgents"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Offer:
    """A pending offer to a simulated agent, with what working it needs."""

    reservation_id: int
    worker_id: int
    task_id: int
    interaction_id: int
    conversation_id: int
    channel: Channel


class SimulatedAgents:
    """The simulated agents of one running simulation."""

    def __init__(
        self,
        ctx: AppContext,
        traffic: DemoTraffic,
        *,
        visits: dict[int, Visit],
        pacer: Pacer,
    ) -> None:
        self.ctx = ctx
        self.traffic = traffic
        self.visits = visits
        self.pacer = pacer
        self.principals: dict[int, Principal] = {}
        self.reasons: dict[tuple[ReasonAxis, str], int] = {}
        self.working: set[int] = set()
        self.resting: set[int] = set()

    async def start(self) -> int:
        """Load the simulated agents and the reasons; set them available. How many."""
        async with transaction(self.ctx) as session:
            users = await session.scalars(
                select(User).where(User.simulated.is_(True), User.is_active.is_(True))
            )
            for user in users:
                self.principals[user.id] = await load_principal(session, user)
            rows = await session.execute(
                select(ContactReason.axis, ContactReason.code, ContactReason.id).where(
                    ContactReason.is_active.is_(True)
                )
            )
            self.reasons = {(axis, code): reason_id for axis, code, reason_id in rows}
        for user_id in self.principals:
            await self._presence(user_id, PresenceState.AVAILABLE)
        return len(self.principals)

    async def stop(self) -> None:
        for user_id in self.principals:
            await self._presence(user_id, PresenceState.OFFLINE)

    async def pending(self) -> list[Offer]:
        """The pending offers to simulated agents that no coroutine works yet."""
        if not self.principals:
            return []
        async with transaction(self.ctx) as session:
            rows = await session.execute(
                select(
                    RoutingReservation.id,
                    RoutingReservation.worker_id,
                    RoutingTask.id,
                    Interaction.id,
                    Interaction.conversation_id,
                    Interaction.channel,
                )
                .join(RoutingTask, RoutingTask.id == RoutingReservation.task_id)
                .join(Interaction, Interaction.id == RoutingTask.interaction_id)
                .where(
                    RoutingReservation.state == ReservationState.PENDING,
                    RoutingReservation.worker_id.in_(self.principals),
                )
                .order_by(RoutingReservation.id)
            )
            offers = [Offer(*row) for row in rows]
        return [offer for offer in offers if offer.reservation_id not in self.working]

    async def work(self, offer: Offer) -> None:
        """Accept, answer, complete, code and end one offer, as its turn says."""
        self.working.add(offer.reservation_id)
        turn = self.traffic.agent_turn(offer.channel)
        me = self.principals[offer.worker_id]
        try:
            await self._wait(turn.accept_after)
            await act_on_reservation(self.ctx, me, offer.reservation_id, CommandKind.ACCEPT)
            await self._wait(turn.answer_after)
            await self._answer(me, offer)
            await self._wait(turn.handle_seconds - turn.answer_after)
            await act_on_task(self.ctx, me, offer.task_id, CommandKind.COMPLETE)
            await self._code(me, offer)
            await self._wait(turn.wrap_up_seconds)
            await self._end_wrap_up(me, offer)
            # Done: a later contact in that conversation gets the generic answer.
            self.visits.pop(offer.conversation_id, None)
        except OpenCXError as exc:  # the customer left, the offer was withdrawn…
            log.info("demo_offer_dropped", reservation_id=offer.reservation_id, why=exc.detail)
        finally:
            self.working.discard(offer.reservation_id)
        await self._maybe_rest(offer.worker_id, turn)

    async def _answer(self, me: Principal, offer: Offer) -> None:
        visit = self.visits.get(offer.conversation_id)
        text = DemoTraffic.answer(visit) if visit is not None else GENERIC_ANSWER.read("en")
        await post_message(
            self.ctx,
            me,
            offer.conversation_id,
            MessageCreate(
                body_text=text,
                channel=offer.channel,
                direction=Direction.OUTBOUND,
                author_kind=AuthorKind.AGENT,
                interaction_id=offer.interaction_id,
            ),
        )

    async def _code(self, me: Principal, offer: Offer) -> None:
        visit = self.visits.get(offer.conversation_id)
        if visit is None:
            return
        axes = (ReasonAxis.DECLARATION, ReasonAxis.QUALIFICATION, ReasonAxis.ACTION)
        found = [self.reasons.get(pair) for pair in zip(axes, visit.topic.reasons, strict=True)]
        if None in found:
            return  # the demo's reasons were changed: the contact stays uncoded
        declaration, qualification, action = found
        coding = WrapUpCoding(
            declaration_reason_id=declaration,
            qualification_reason_id=qualification,
            action_reason_id=action,
            summary=visit.subject,
        )
        await code_interaction(self.ctx, me, offer.interaction_id, coding)

    async def _end_wrap_up(self, me: Principal, offer: Offer) -> None:
        with contextlib.suppress(OpenCXError):  # the queue's wrap-up time was over first
            await act_on_task(self.ctx, me, offer.task_id, CommandKind.END_WRAP_UP)

    async def _maybe_rest(self, user_id: int, turn: AgentTurn) -> None:
        if turn.break_seconds is None or user_id in self.resting:
            return
        self.resting.add(user_id)
        try:
            await self._presence(user_id, PresenceState.NOT_READY, reason="break")
            await self._wait(turn.break_seconds)
            await self._presence(user_id, PresenceState.AVAILABLE)
        finally:  # stopping during a break: ``stop`` takes them offline anyway
            self.resting.discard(user_id)

    async def _presence(
        self, user_id: int, state: PresenceState, *, reason: str | None = None
    ) -> None:
        me = self.principals[user_id]
        try:
            await set_agent_presence(
                self.ctx, me, user_id, PresenceUpdate(state=state, reason=reason)
            )
        except OpenCXError as exc:  # already in that state
            log.debug("demo_presence_unchanged", user_id=user_id, why=exc.detail)

    async def _wait(self, seconds: float) -> None:
        await self.pacer.wait(seconds)
