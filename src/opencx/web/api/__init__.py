"""The REST API under /api/v1: one router module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from opencx.web.api import (
    audit,
    business_hours,
    channel_accounts,
    contact_reasons,
    conversations,
    customers,
    events,
    interactions,
    messages,
    queues,
    routing,
    sites,
    skills,
    teams,
    tokens,
    typing,
    users,
)
from opencx.web.errors import PROBLEM_RESPONSES

__all__ = ["api_router"]


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
    for module in (
        sites,
        teams,
        skills,
        queues,
        business_hours,
        contact_reasons,
        channel_accounts,
        users,
        tokens,
        customers,
        conversations,
        interactions,
        messages,
        typing,
        events,
        audit,
        routing,
    ):
        router.include_router(module.router)
    return router
