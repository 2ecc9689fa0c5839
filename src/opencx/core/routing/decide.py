"""``decide``: a snapshot of the routing state in, the decisions due now out."""

from __future__ import annotations

from opencx.core.routing.decisions import Decision
from opencx.core.routing.model import Instant, RoutingPolicy
from opencx.core.routing.router import Router
from opencx.core.routing.snapshot import Snapshot

__all__ = ["decide"]


def decide(
    snapshot: Snapshot, *, now: Instant, policy: RoutingPolicy | None = None
) -> list[Decision]:
    """Every decision due at ``now``: offers for waiting tasks, time-outs, steps, wrap-ups.

    Pure and deterministic: equal snapshots, times and policies give equal decisions.
    """
    router, decisions = Router.from_snapshot(snapshot, now=now, policy=policy)
    return decisions + router.advance(now)
