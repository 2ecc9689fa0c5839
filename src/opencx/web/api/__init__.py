"""The REST API under /api/v1: one router module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from opencx.web.api import (
    audit,
    business_hours,
    canned_responses,
    channel_accounts,
    colleagues,
    connectors,
    contact_reasons,
    conversations,
    customers,
    events,
    help_requests,
    inbox,
    interactions,
    knowledge,
    messages,
    notes,
    queues,
    reports,
    routing,
    sites,
    skills,
    suggestions,
    teams,
    tokens,
    typing,
    users,
    whatsapp_templates,
)
from opencx.web.api._heads import behind_heads
from opencx.web.errors import PROBLEM_RESPONSES

__all__ = ["api_router"]


#: Where the API's routes are.
PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, responses=PROBLEM_RESPONSES)
    for module in (
        sites,
        teams,
        skills,
        queues,
        business_hours,
        contact_reasons,
        channel_accounts,
        whatsapp_templates,
        users,
        colleagues,
        tokens,
        customers,
        connectors,
        conversations,
        interactions,
        messages,
        notes,
        help_requests,
        typing,
        inbox,
        suggestions,
        canned_responses,
        knowledge,
        events,
        audit,
        routing,
        reports,
    ):
        # a request tries only the routes of its own resource (``_heads``)
        router.include_router(behind_heads(PREFIX, module.router))
    return router
