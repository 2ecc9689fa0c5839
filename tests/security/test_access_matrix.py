"""Who may call what: every API operation × {anonymous, agent, supervisor, admin}, and
what a partner-site agent sees of another site's data.

``ACCESS`` is the specification, one line per operation; a new endpoint fails
``test_every_operation_has_an_access_rule`` until it is given one. Requests carry a
schema-valid body generated from the OpenAPI document and ids of rows that exist, so a
refusal can only come from the authorisation rules.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy import select

from opencx.core.enums import (
    AuthorKind,
    Channel,
    Direction,
    IdentityKind,
    PresenceState,
    ReasonAxis,
    Role,
    SiteKind,
)
from opencx.core.knowledge import CannedScope, ContentLocale
from opencx.core.permissions import Principal
from opencx.db.models import RoutingReservation
from opencx.features.auth import create_api_token
from opencx.features.auth.tokens import list_tokens_as_system
from opencx.features.connectors import ConnectorCreate, create_connector
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.attachments import add_attachment
from opencx.features.conversations.conversations import ConversationCreate, create_conversation
from opencx.features.conversations.help_requests import HelpRequestCreate, ask_for_help
from opencx.features.conversations.interactions import InteractionCreate, create_interaction
from opencx.features.conversations.messages import MessageCreate, post_message
from opencx.features.conversations.notes import NoteCreate, post_note
from opencx.features.customers.schemas import CustomerCreate, IdentityIn
from opencx.features.customers.service import create_customer
from opencx.features.directory.business_hours import (
    BusinessHoursCreate,
    HolidayCreate,
    add_holiday,
    create_business_hours,
)
from opencx.features.directory.channel_accounts import ChannelAccountCreate, create_account
from opencx.features.directory.contact_reasons import ReasonCreate, create_reason
from opencx.features.directory.queues import QueueCreate, create_queue
from opencx.features.directory.sites import SiteCreate, create_site
from opencx.features.directory.skills import SkillCreate, create_skill
from opencx.features.directory.teams import TeamCreate, create_team
from opencx.features.directory.whatsapp_templates import TemplateCreate, create_template
from opencx.features.knowledge import (
    ArticleCreate,
    CannedCreate,
    create_article,
    create_canned_response,
)
from opencx.features.routing.engine import RoutingEngine, routing_service
from opencx.features.routing.leadership import Leadership
from opencx.features.routing.tasks import TaskCreate, create_task
from opencx.features.users.agents import SkillLevel, set_user_skills
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.jobs.backends import apply_job_schema
from opencx.runtime import build_context
from opencx.settings import Settings
from opencx.testing import FakeHttp
from opencx.web import create_app
from tests.contract.test_openapi_contract import SCHEMA_TIMEOUT, _operation_labels

ALL = frozenset({"agent", "supervisor", "admin"})
SUPERVISOR_UP = frozenset({"supervisor", "admin"})
ADMIN = frozenset({"admin"})
#: Agents may use it on themselves only; supervisors and admins on anyone.
SELF = "self"

ACCESS: dict[str, frozenset[str] | str] = {
    "GET /api/v1/sites": ALL,
    "POST /api/v1/sites": ADMIN,
    "GET /api/v1/sites/{site_id}": ALL,
    "PATCH /api/v1/sites/{site_id}": ADMIN,
    **{f"GET /api/v1/{r}": ALL for r in ("teams", "skills", "queues", "business-hours")},
    **{f"POST /api/v1/{r}": ADMIN for r in ("teams", "skills", "queues", "business-hours")},
    **{
        f"{m} /api/v1/{r}/{{{k}}}": (ALL if m == "GET" else ADMIN)
        for r, k in (
            ("teams", "team_id"),
            ("skills", "skill_id"),
            ("queues", "queue_id"),
            ("business-hours", "hours_id"),
            ("contact-reasons", "reason_id"),
            ("channel-accounts", "account_id"),
        )
        for m in ("GET", "PATCH", "DELETE")
    },
    "GET /api/v1/business-hours/{hours_id}/status": ALL,
    "GET /api/v1/business-hours/{hours_id}/holidays": ALL,
    "POST /api/v1/business-hours/{hours_id}/holidays": ADMIN,
    "DELETE /api/v1/business-hours/{hours_id}/holidays/{holiday_id}": ADMIN,
    "GET /api/v1/contact-reasons": ALL,
    "POST /api/v1/contact-reasons": ADMIN,
    "GET /api/v1/contact-reasons/tree": ALL,
    "GET /api/v1/channel-accounts": ALL,
    "POST /api/v1/channel-accounts": ADMIN,
    "GET /api/v1/users": SUPERVISOR_UP,
    "POST /api/v1/users": ADMIN,
    "GET /api/v1/users/me": ALL,
    # One's own tokens; another user's token is a 404 unless one is an admin.
    "GET /api/v1/tokens": ALL,
    "DELETE /api/v1/tokens/{token_id}": ALL,
    "GET /api/v1/users/{user_id}": SELF,
    "PATCH /api/v1/users/{user_id}": ADMIN,
    "PUT /api/v1/users/{user_id}/skills": ADMIN,
    "PUT /api/v1/users/{user_id}/site-grants": ADMIN,
    "PUT /api/v1/users/{user_id}/presence": SELF,
    "GET /api/v1/customers": ALL,
    "POST /api/v1/customers": ALL,
    "POST /api/v1/customers/resolve": ALL,
    "GET /api/v1/customers/{customer_id}": ALL,
    "PATCH /api/v1/customers/{customer_id}": ALL,
    "POST /api/v1/customers/{customer_id}/identities": ALL,
    "DELETE /api/v1/customers/{customer_id}/identities/{identity_id}": ALL,
    "POST /api/v1/customers/{customer_id}/identities/{identity_id}/confirm": ALL,
    "POST /api/v1/customers/{customer_id}/merge": SUPERVISOR_UP,
    "GET /api/v1/customers/{customer_id}/overview": ALL,
    "GET /api/v1/customers/{customer_id}/connectors": ALL,
    # A connector's configuration says where the company's systems are and how to
    # enter them: admins only, reading included.
    "GET /api/v1/connectors": ADMIN,
    "POST /api/v1/connectors": ADMIN,
    **{f"{m} /api/v1/connectors/{{connector_id}}": ADMIN for m in ("GET", "PATCH", "DELETE")},
    "POST /api/v1/connectors/{connector_id}/test": ADMIN,
    "GET /api/v1/customers/{customer_id}/merges": ALL,
    "GET /api/v1/conversations": ALL,
    "POST /api/v1/conversations": ALL,
    "GET /api/v1/conversations/{conversation_id}": ALL,
    "PATCH /api/v1/conversations/{conversation_id}": ALL,
    "POST /api/v1/conversations/{conversation_id}/status": ALL,
    "POST /api/v1/conversations/{conversation_id}/merge": ALL,
    "POST /api/v1/conversations/{conversation_id}/split": ALL,
    "GET /api/v1/conversations/{conversation_id}/timeline": ALL,
    "GET /api/v1/conversations/{conversation_id}/reply-windows": ALL,
    "GET /api/v1/conversations/{conversation_id}/interactions": ALL,
    "POST /api/v1/conversations/{conversation_id}/interactions": ALL,
    "GET /api/v1/interactions/{interaction_id}": ALL,
    "POST /api/v1/interactions/{interaction_id}/state": ALL,
    # Agents code the contacts they handled (another's is a 409); supervisors any.
    "POST /api/v1/interactions/{interaction_id}/wrap-up": ALL,
    "GET /api/v1/conversations/{conversation_id}/notes": ALL,
    "POST /api/v1/conversations/{conversation_id}/notes": ALL,
    "GET /api/v1/notes/{note_id}": ALL,
    # Agents ask and read their own requests (another's is a 404); supervisors answer.
    "GET /api/v1/help-requests": ALL,
    "POST /api/v1/help-requests": ALL,
    "GET /api/v1/inbox": ALL,
    "POST /api/v1/conversations/{conversation_id}/snooze": ALL,
    "DELETE /api/v1/conversations/{conversation_id}/snooze": ALL,
    "GET /api/v1/colleagues": ALL,
    "GET /api/v1/help-requests/{request_id}": ALL,
    "POST /api/v1/help-requests/{request_id}/answer": SUPERVISOR_UP,
    "GET /api/v1/conversations/{conversation_id}/messages": ALL,
    "POST /api/v1/conversations/{conversation_id}/messages": ALL,
    "POST /api/v1/conversations/{conversation_id}/typing": ALL,
    "GET /api/v1/messages": ALL,
    "GET /api/v1/messages/{message_id}": ALL,
    "POST /api/v1/messages/{message_id}/attachments": ALL,
    "POST /api/v1/conversations/{conversation_id}/attachments": ALL,
    "GET /api/v1/attachments/{attachment_id}/content": ALL,
    "GET /api/v1/events": SUPERVISOR_UP,
    "GET /api/v1/audit": ADMIN,
    "GET /api/v1/reports/intervals": SUPERVISOR_UP,
    "GET /api/v1/routing/workflow": ALL,
    "PUT /api/v1/routing/workflow": ADMIN,
    # Rehearsing routing (the admin console) writes nothing: supervisors may try it.
    "POST /api/v1/routing/expressions/validate": SUPERVISOR_UP,
    "POST /api/v1/routing/dry-run": SUPERVISOR_UP,
    # Agents act only on their own tasks and offers: the services check that, and
    # answer 404 or 409; the role gate lets everyone in.
    "GET /api/v1/tasks": ALL,
    "POST /api/v1/tasks": ALL,
    "GET /api/v1/tasks/{task_id}": ALL,
    "GET /api/v1/tasks/{task_id}/routing": SUPERVISOR_UP,
    **{
        f"POST /api/v1/tasks/{{task_id}}/{action}": ALL
        for action in ("complete", "transfer", "cancel", "callback", "end-wrap-up")
    },
    "GET /api/v1/reservations": ALL,
    "POST /api/v1/reservations/{reservation_id}/accept": ALL,
    "POST /api/v1/reservations/{reservation_id}/reject": ALL,
    "GET /api/v1/queues/{queue_id}/wait": ALL,
    # The cockpit's alert thresholds: everyone reads them, supervisors and admins set them.
    "GET /api/v1/queues/{queue_id}/thresholds": ALL,
    "PUT /api/v1/queues/{queue_id}/thresholds": SUPERVISOR_UP,
    "POST /api/v1/sites/{site_id}/routing-state": SUPERVISOR_UP,
    # Agents manage their personal responses, supervisors their team's: the world's
    # response is the company's, which only admins manage.
    "GET /api/v1/canned-responses": ALL,
    "POST /api/v1/canned-responses": ALL,
    "GET /api/v1/canned-responses/{response_id}": ALL,
    "PATCH /api/v1/canned-responses/{response_id}": ADMIN,
    "DELETE /api/v1/canned-responses/{response_id}": ADMIN,
    "POST /api/v1/canned-responses/{response_id}/render": ALL,
    "GET /api/v1/knowledge/articles": ALL,
    "POST /api/v1/knowledge/articles": SUPERVISOR_UP,
    "GET /api/v1/knowledge/articles/{article_id}": ALL,
    "PATCH /api/v1/knowledge/articles/{article_id}": SUPERVISOR_UP,
    "DELETE /api/v1/knowledge/articles/{article_id}": SUPERVISOR_UP,
    "GET /api/v1/conversations/{conversation_id}/suggestions": ALL,
    # Admins keep each WhatsApp account's approved templates; everyone who sees the
    # account reads them, and agents the ones a conversation's answer may use.
    "GET /api/v1/channel-accounts/{account_id}/whatsapp-templates": ALL,
    "POST /api/v1/channel-accounts/{account_id}/whatsapp-templates": ADMIN,
    "GET /api/v1/whatsapp-templates/{template_id}": ALL,
    "PATCH /api/v1/whatsapp-templates/{template_id}": ADMIN,
    "DELETE /api/v1/whatsapp-templates/{template_id}": ADMIN,
    "GET /api/v1/conversations/{conversation_id}/whatsapp-templates": ALL,
}
PUBLIC = {"GET /healthz", "GET /readyz"}
#: Bodies whose rules the schema cannot express (cross-field checks), given outright.
BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/routing/dry-run": {"contact": {"channel": "chat", "attributes": {"lang": "fr"}}},
    "POST /api/v1/business-hours": {"name": "Weekend", "timezone": "Europe/Paris"},
    "POST /api/v1/contact-reasons": {"axis": "action", "code": "x", "labels": {"en": "X"}},
    # What a channel received (inbound, a customer's or the system's words, a provider
    # id) is for admins only (``channels.ingest``): every role may answer as itself.
    "POST /api/v1/conversations/{conversation_id}/messages": {
        "body_text": "x",
        "channel": "chat",
        "direction": "outbound",
        "author_kind": "agent",
    },
    # The account in the world is a WhatsApp number: Meta's, so no Content SID needed.
    "POST /api/v1/channel-accounts/{account_id}/whatsapp-templates": {
        "name": "order_update",
        "language": "fr",
        "body": "Commande {{1}}",
    },
    # A personal response, which every role may write (company and team ones are not).
    "POST /api/v1/canned-responses": {"title": "x", "body": "y", "locale": "en"},
}
API_LABELS = [label for label in _operation_labels() if label not in PUBLIC]


@dataclass
class World:
    """Rows on the internal site and on two partner sites, and a token per caller."""

    ids: dict[str, int]
    tokens: dict[str, str]
    own_ids: dict[str, int]


async def _build_world(settings: Settings) -> World:
    # As `opencx db upgrade` leaves it: on PostgreSQL, posting a message defers its send
    # through procrastinate, whose tables are not part of the test template.
    apply_job_schema(settings)
    ctx = build_context(settings)
    try:
        return await _populate(ctx)
    finally:
        await ctx.engine.dispose()


async def _populate(ctx: AppContext) -> World:
    root = await create_user_as_system(ctx, UserCreate(email="root@example.com", role=Role.ADMIN))
    admin = Principal(user_id=root.id, role=Role.ADMIN)
    internal = await create_site(ctx, admin, SiteCreate(name="HQ"))
    partner_a = await create_site(ctx, admin, SiteCreate(name="A", kind=SiteKind.PARTNER))
    partner_b = await create_site(ctx, admin, SiteCreate(name="B", kind=SiteKind.PARTNER))
    team = await create_team(ctx, admin, TeamCreate(name="Care"))
    skill = await create_skill(ctx, admin, SkillCreate(name="billing"))
    hours = await create_business_hours(
        ctx, admin, BusinessHoursCreate(name="Week", timezone="Europe/Paris")
    )
    holiday = await add_holiday(
        ctx, admin, hours.id, HolidayCreate.model_validate({"day": "2027-05-01", "name": "May"})
    )
    reason = await create_reason(
        ctx,
        admin,
        ReasonCreate.model_validate(
            {"axis": ReasonAxis.DECLARATION, "code": "billing", "labels": {"en": "Billing"}}
        ),
    )
    queue_b = await create_queue(
        ctx, admin, QueueCreate(name="B phone", channel=Channel.VOICE, site_id=partner_b.id)
    )
    await create_account(
        ctx,
        admin,
        ChannelAccountCreate(
            channel=Channel.EMAIL,
            provider="smtp",
            address="support-b@example.com",
            name="B mail",
            queue_id=queue_b.id,
        ),
    )
    account = await create_account(
        ctx,
        admin,
        ChannelAccountCreate(
            channel=Channel.WHATSAPP,
            provider="meta",
            address="106540352242922",
            name="B WhatsApp",
            queue_id=queue_b.id,
        ),
    )
    template = await create_template(
        ctx,
        admin,
        account.id,
        TemplateCreate(name="welcome", language="en", body="Hello {{1}}"),
    )
    connector = await create_connector(
        ctx,
        admin,
        ConnectorCreate(name="CRM", url_template="https://crm.example.com/c/{customer.id}"),
    )
    customer = await create_customer(
        ctx,
        admin,
        CustomerCreate(
            display_name="Zoé",
            identities=[IdentityIn(kind=IdentityKind.EMAIL, value="zoe@example.com")],
        ),
    )
    conversation = await create_conversation(
        ctx, admin, ConversationCreate(customer_id=customer.id, queue_id=queue_b.id)
    )
    interaction = await create_interaction(
        ctx,
        admin,
        conversation.id,
        InteractionCreate(channel=Channel.EMAIL, direction=Direction.INBOUND),
    )
    message, _ = await post_message(
        ctx,
        admin,
        conversation.id,
        MessageCreate(
            body_text="Hello",
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            interaction_id=interaction.id,
        ),
    )

    note = await post_note(ctx, admin, conversation.id, NoteCreate(body="Checked the invoice"))
    asked = await ask_for_help(
        ctx, admin, HelpRequestCreate(conversation_id=conversation.id, question="Refund?")
    )
    attachment = await add_attachment(
        ctx,
        admin,
        message.id,
        filename="invoice.pdf",
        content_type="application/pdf",
        read=_reader(b"%PDF-1.4 invoice"),
    )
    canned = await create_canned_response(
        ctx,
        admin,
        CannedCreate(
            title="Hello",
            body="Hello {{ customer.name }}",
            locale=ContentLocale.EN,
            scope=CannedScope.COMPANY,
        ),
    )
    article = await create_article(
        ctx,
        admin,
        ArticleCreate(title="Refunds", body="Five days.", locale=ContentLocale.EN, published=True),
    )
    tokens: dict[str, str] = {}
    own_ids: dict[str, int] = {}
    callers = {
        "admin": (Role.ADMIN, internal.id),
        "supervisor": (Role.SUPERVISOR, internal.id),
        "agent": (Role.AGENT, internal.id),
        "partner_agent": (Role.AGENT, partner_a.id),
        "partner_supervisor": (Role.SUPERVISOR, partner_a.id),
    }
    for name, (role, site_id) in callers.items():
        email = f"{name}@example.com"
        user = await create_user_as_system(ctx, UserCreate(email=email, role=role, site_id=site_id))
        tokens[name] = await create_api_token(ctx, email=email)
        own_ids[name] = user.id
    user_on_b = await create_user_as_system(
        ctx, UserCreate(email="b-agent@example.com", role=Role.AGENT, site_id=partner_b.id)
    )
    await create_api_token(ctx, email="b-agent@example.com")
    [b_token] = await list_tokens_as_system(ctx, email="b-agent@example.com")
    task_id, reservation_id = await _offer_a_task(
        ctx, admin, customer.id, site_id=partner_b.id, skill_id=skill.id, agent=own_ids["agent"]
    )
    ids = {
        "site_id": partner_b.id,
        "team_id": team.id,
        "skill_id": skill.id,
        "queue_id": queue_b.id,
        "hours_id": hours.id,
        "holiday_id": holiday.id,
        "reason_id": reason.id,
        "account_id": account.id,
        "connector_id": connector.id,
        "user_id": user_on_b.id,
        "customer_id": customer.id,
        "identity_id": customer.identities[0].id,
        "conversation_id": conversation.id,
        "interaction_id": interaction.id,
        "message_id": message.id,
        "attachment_id": attachment.id,
        "note_id": note.id,
        "request_id": asked.id,
        "task_id": task_id,
        "reservation_id": reservation_id,
        "token_id": b_token.id,
        "response_id": canned.id,
        "article_id": article.id,
        "template_id": template.id,
    }
    return World(ids=ids, tokens=tokens, own_ids=own_ids)


async def _offer_a_task(
    ctx: AppContext, admin: Principal, customer_id: int, *, site_id: int, skill_id: int, agent: int
) -> tuple[int, int]:
    """A chat task on ``site_id`` offered to ``agent``, by one step of a router; returns
    the task's and the reservation's ids."""
    queue = await create_queue(
        ctx,
        admin,
        QueueCreate(
            name="B chat",
            channel=Channel.CHAT,
            site_id=site_id,
            target_expression="skills.billing >= 1",
        ),
    )
    await set_user_skills(ctx, admin, agent, [SkillLevel(skill_id=skill_id)])
    await set_agent_presence(ctx, admin, agent, PresenceUpdate(state=PresenceState.AVAILABLE))
    conversation = await create_conversation(
        ctx, admin, ConversationCreate(customer_id=customer_id, queue_id=queue.id)
    )
    interaction = await create_interaction(
        ctx,
        admin,
        conversation.id,
        InteractionCreate(channel=Channel.CHAT, direction=Direction.INBOUND),
    )
    task = await create_task(ctx, admin, TaskCreate(interaction_id=interaction.id))
    leadership = Leadership(ctx)
    await leadership.acquire()
    try:
        engine = RoutingEngine(ctx, leadership)
        await engine.restore()
        await engine.step()
    finally:
        await leadership.release()
    async with transaction(ctx) as session:
        reservation_id = await session.scalar(
            select(RoutingReservation.id).where(
                RoutingReservation.task_id == task.id, RoutingReservation.worker_id == agent
            )
        )
    assert reservation_id is not None, "the router offered the task to nobody"
    return task.id, reservation_id


def _reader(data: bytes) -> Any:
    async def read(limit: int) -> bytes:
        return data[:limit]

    return read


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[FastAPI, World]]:
    built = asyncio.run(_build_world(settings))
    ctx = build_context(settings)
    ctx.http = FakeHttp()  # a connector's business system: nothing leaves the test
    # Task and offer actions wait for the router: the app runs one, as the server does.
    yield create_app(ctx, background=[functools.partial(routing_service, ctx)]), built
    # schemathesis keeps every app it started running until the process exits: stop
    # this one, or each test leaves a router polling its database.
    shutdown_lifespans()


def test_every_operation_has_an_access_rule() -> None:
    assert sorted(ACCESS) == API_LABELS


def _schema(app: FastAPI) -> Any:
    """The app's OpenAPI schema, loaded once per app. Its first request also starts the
    app (and its router): on a busy machine that can pass schemathesis's 10 s default."""
    if not hasattr(app.state, "access_schema"):
        app.state.access_schema = schemathesis.openapi.from_asgi(
            "/api/v1/openapi.json", app, timeout=SCHEMA_TIMEOUT
        )
    return app.state.access_schema


def _statuses(
    app: FastAPI, label: str, path: dict[str, int], token: str | None, examples: int = 3
) -> set[int]:
    """Status codes of a few schema-valid requests to ``label`` with these path ids."""
    operation = _schema(app).find_operation_by_label(label)
    assert operation is not None
    names = {p.name for p in operation.path_parameters}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    seen: set[int] = set()

    extra = {"body": BODIES[label]} if label in BODIES else {}
    strategy = operation.as_strategy(path_parameters={k: path[k] for k in names}, **extra)

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: schemathesis.Case) -> None:
        seen.add(case.call(headers=headers).status_code)

    call()
    return seen


@pytest.mark.parametrize("label", API_LABELS)
def test_roles_get_exactly_what_the_matrix_grants(label: str, world: tuple[FastAPI, World]) -> None:
    app, built = world
    assert _statuses(app, label, built.ids, None) == {401}
    rule = ACCESS[label]
    for role in ("agent", "supervisor", "admin"):
        own = {**built.ids, "user_id": built.own_ids[role]}
        statuses = _statuses(app, label, built.ids, built.tokens[role])
        if statuses == {422}:
            # Generated bodies can all break a cross-field rule; try harder for one that
            # reaches the access check.
            statuses |= _statuses(app, label, built.ids, built.tokens[role], examples=40)
        if rule == SELF:
            allowed = role != "agent"
            assert 403 not in _statuses(app, label, own, built.tokens[role]), role
        else:
            allowed = role in rule
        if allowed:
            assert not statuses & {401, 403}, (role, statuses)
        else:
            # A body that the schema admits but a cross-field rule refuses is a 422
            # before any access check: it reveals nothing.
            assert 403 in statuses, (role, statuses)
            assert statuses <= {403, 422}, (role, statuses)


HIDDEN_FROM_PARTNER = [
    "/api/v1/sites/{site_id}",
    "/api/v1/queues/{queue_id}",
    "/api/v1/channel-accounts/{account_id}",
    "/api/v1/users/{user_id}",
    "/api/v1/customers/{customer_id}",
    "/api/v1/customers/{customer_id}/overview",
    "/api/v1/customers/{customer_id}/connectors",
    "/api/v1/conversations/{conversation_id}",
    "/api/v1/conversations/{conversation_id}/timeline",
    "/api/v1/conversations/{conversation_id}/reply-windows",
    "/api/v1/conversations/{conversation_id}/messages",
    "/api/v1/interactions/{interaction_id}",
    "/api/v1/messages/{message_id}",
    "/api/v1/attachments/{attachment_id}/content",
    "/api/v1/tasks/{task_id}",
    "/api/v1/conversations/{conversation_id}/notes",
    "/api/v1/notes/{note_id}",
    "/api/v1/help-requests/{request_id}",
    "/api/v1/conversations/{conversation_id}/suggestions",
    "/api/v1/channel-accounts/{account_id}/whatsapp-templates",
    "/api/v1/whatsapp-templates/{template_id}",
    "/api/v1/conversations/{conversation_id}/whatsapp-templates",
]


@pytest.mark.parametrize("template", HIDDEN_FROM_PARTNER)
def test_partner_site_users_cannot_see_another_sites_rows(
    template: str, world: tuple[FastAPI, World]
) -> None:
    app, built = world
    path = template.format(**built.ids)
    for caller in ("partner_agent", "partner_supervisor"):
        # Agents may read no other user at all: the role refuses before the site hides.
        expected = 403 if caller == "partner_agent" and "{user_id}" in template else 404
        assert _get(app, path, built.tokens[caller]).status_code == expected, caller
    assert _get(app, path, built.tokens["supervisor"]).status_code == 200


def test_partner_lists_leave_out_another_sites_rows(world: tuple[FastAPI, World]) -> None:
    app, built = world
    keys = {
        "sites": "site_id",
        "queues": "queue_id",
        "channel-accounts": "account_id",
        "customers": "customer_id",
        "conversations": "conversation_id",
        "users": "user_id",
        "tasks": "task_id",
        "reservations": "reservation_id",
        "help-requests": "request_id",
    }
    for caller in ("partner_agent", "partner_supervisor"):
        for resource, key in keys.items():
            response = _get(app, f"/api/v1/{resource}", built.tokens[caller])
            if response.status_code == 403:  # agents may not list users at all
                continue
            items = response.json()["items"]
            assert built.ids[key] not in [i["id"] for i in items], (caller, resource)
    listed = _get(app, "/api/v1/conversations", built.tokens["supervisor"]).json()["items"]
    assert built.ids["conversation_id"] in [i["id"] for i in listed]


def _get(app: FastAPI, path: str, token: str) -> httpx.Response:
    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                return await http.get(path, headers={"Authorization": f"Bearer {token}"})
        finally:
            # Each call runs in its own event loop: leave no connection bound to this one.
            await app.state.ctx.engine.dispose()

    return asyncio.run(fetch())
