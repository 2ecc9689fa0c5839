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
        router.include_router(module.router)
    return router
