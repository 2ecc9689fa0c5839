"""The demo company, seeded once into the configured database through the services,
so every row has its events and audit entries as if people had done the work.

Rules, so that the demo works at any hour for the person trying it:
- the printed agent login is the one agent available when the demo starts: it has a
  site, a team, skills and capacity that put it in the queues a visitor can reach (web
  chat, e-mail, Messenger), so a chat or an e-mail is offered to whoever signed in
  with it; the seeded agents, whom nobody controls, are offline, so a contact is never
  offered round them while the widget promises an answer;
- the queues a visitor can reach take work at any hour (``QueueSpec.office_hours``);
- the seeded history is history: its answers are stored sent, never queued for a
  relay the demo does not have (``opencx demo`` writes new e-mail to a local outbox).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from opencx.cli.demo_crm import demo_connectors
from opencx.cli.demo_data import (
    AGENTS,
    BUSINESS_HOURS,
    COUNTRIES,
    HOLIDAYS,
    QUEUES,
    REASONS,
    SIMULATED_AGENTS,
    SITES,
    SKILLS,
    TEAMS,
    CountrySpec,
)
from opencx.cli.demo_toolbox import seed_toolbox
from opencx.core.enums import (
    AuthorKind,
    Channel,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    IdentityKind,
    InteractionState,
    PresenceState,
    Role,
    SiteKind,
)
from opencx.core.permissions import Principal
from opencx.db.models import Message, User
from opencx.features.connectors import ConnectorCreate, create_connector
from opencx.features.context import AppContext, transaction
from opencx.features.conversations.conversations import (
    ConversationCreate,
    ConversationUpdate,
    StatusChange,
    change_conversation_status,
    create_conversation,
    update_conversation,
)
from opencx.features.conversations.interactions import (
    InteractionCreate,
    StateChange,
    change_interaction_state,
    create_interaction,
)
from opencx.features.conversations.messages import SEND_JOB, MessageCreate, post_message
from opencx.features.customers.schemas import CustomerCreate, IdentityIn
from opencx.features.customers.service import create_customer
from opencx.features.delivery.statuses import set_delivery_status
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
from opencx.features.ports import JobQueue
from opencx.features.users.agents import SkillLevel, set_user_skills
from opencx.features.users.presence import PresenceUpdate, set_agent_presence
from opencx.features.users.service import UserCreate, UserOut, create_user_as_system
from opencx.providers.phones import is_valid_phone, normalise_phone
from opencx.runtime import build_context
from opencx.settings import Settings

__all__ = [
    "DEMO_CUSTOMERS",
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "crm_reference",
    "ensure_demo",
    "seed_demo",
]

#: The demo company's support mailbox: mail sent to it on the SMTP port becomes a ticket.
DEMO_MAILBOX = "support@demo.opencx.dev"
#: The demo company's web chat widget: ``/chat/try/<key>`` shows it on a sample page.
DEMO_WIDGET = "vigilo-web"
DEMO_PASSWORD = "opencx-demo"  # noqa: S105 - demo data, printed to the user on purpose
DEMO_DOMAIN = "demo.opencx.dev"
DEMO_CUSTOMERS = 240
HISTORY_DAYS = 30
DEMO_LOGINS: list[tuple[Role, str]] = [
    (Role.ADMIN, f"admin@{DEMO_DOMAIN}"),
    (Role.SUPERVISOR, f"supervisor@{DEMO_DOMAIN}"),
    (Role.AGENT, f"agent@{DEMO_DOMAIN}"),
]
Progress = Callable[[str, int, int], None]
#: The printed agent login: where it works, so it is offered what a visitor sends.
DEMO_AGENT_SITE = "Paris HQ"
DEMO_AGENT_TEAM = "Chat and social"
DEMO_AGENT_SKILLS = (
    ("billing", 8),
    ("subscription", 8),
    ("complaints", 7),
    ("device_setup", 7),
    ("app_support", 8),
    ("social_media", 8),
)
#: The printed supervisor's team, whose canned responses they manage.
DEMO_SUPERVISOR_TEAM = "Customer service"
AGENT_CAPACITY = {"voice": 1, "chat": 3, "email": 5, "messenger": 3, "sms": 3, "whatsapp": 3}
#: The simulated agents work the written channels only.
SIMULATED_CAPACITY = {"chat": 3, "email": 4, "sms": 3, "whatsapp": 3, "messenger": 3}
#: The demo's SMS number (a French number kept for fiction), WhatsApp Cloud API phone
#: number id and Facebook page id: the simulated customers write to them.
DEMO_SMS_NUMBER = "+33199001000"
DEMO_WHATSAPP_ID = "100000000000001"
DEMO_PAGE_ID = "100000000000002"
#: Digits of a mobile number in E.164, country code included.
E164_DIGITS = {"FR": 11, "BE": 11, "LU": 12, "NL": 11, "IT": 12, "ES": 11, "PL": 11}


class ManualClock:
    """Seeding replays a month of history: services stamp rows with this clock's time."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class HistoryJobs:
    """Seeding writes history: its answers left a month ago and are stored sent, so the
    job that would send each one is not deferred (it would only find it sent); every
    other job goes to the real queue."""

    def __init__(self, jobs: JobQueue) -> None:
        self.jobs = jobs

    async def defer(
        self,
        task: str,
        args: dict[str, Any],
        *,
        run_at: datetime | None = None,
        queueing_lock: str | None = None,
    ) -> None:
        if task != SEND_JOB:
            await self.jobs.defer(task, args, run_at=run_at, queueing_lock=queueing_lock)


@dataclass
class Directory:
    """Ids of what the seed created, by name."""

    sites: dict[str, int] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)
    queues: dict[str, int] = field(default_factory=dict)
    reasons: dict[tuple[str, str], int] = field(default_factory=dict)
    agents_by_team: dict[str, list[int]] = field(default_factory=dict)


async def ensure_demo(
    settings: Settings, *, customers: int = DEMO_CUSTOMERS, progress: Progress | None = None
) -> list[tuple[str, str, str]]:
    """Seed the demo company unless users exist; return (role, email, password) to print."""
    ctx = build_context(settings)
    try:
        async with transaction(ctx) as session:
            has_users = await session.scalar(select(func.count()).select_from(User))
        if not has_users:
            await seed_demo(ctx, customers=customers, progress=progress)
    finally:
        await ctx.engine.dispose()
    return [(role.value, email, DEMO_PASSWORD) for role, email in DEMO_LOGINS]


async def seed_demo(
    ctx: AppContext,
    *,
    customers: int = DEMO_CUSTOMERS,
    seed: int = 2026,
    progress: Progress | None = None,
) -> None:
    """Create Vigilo: sites, teams, skills, agents, queues, hours, reasons, customers
    with a month of history across channels. Deterministic for a given ``seed``."""
    real_clock, real_jobs = ctx.clock, ctx.jobs
    now = real_clock.now()
    clock = ManualClock(now - timedelta(days=HISTORY_DAYS + 1))
    ctx.clock, ctx.jobs = clock, HistoryJobs(real_jobs)
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    try:
        admin = await _admin(ctx)
        directory = await _directory(ctx, admin)
        demo_agent = await _printed_staff(ctx, admin, directory)
        await _agents(ctx, admin, directory)
        await _simulated_agents(ctx, admin, directory)
        await seed_toolbox(ctx, admin, teams=directory.teams, agent=demo_agent)
        report = progress or (lambda _label, _done, _total: None)
        await _connectors(ctx, admin)
        for n in range(customers):
            await _customer_history(ctx, admin, directory, rng, clock, now, number=n + 1)
            report("customers", n + 1, customers)
        clock.current = now
        await set_agent_presence(
            ctx, admin, demo_agent.id, PresenceUpdate(state=PresenceState.AVAILABLE)
        )
    finally:
        ctx.clock, ctx.jobs = real_clock, real_jobs


def _login(role: Role) -> str:
    return next(email for login_role, email in DEMO_LOGINS if login_role is role)


async def _admin(ctx: AppContext) -> Principal:
    user = await create_user_as_system(
        ctx,
        UserCreate(
            email=_login(Role.ADMIN),
            role=Role.ADMIN,
            password=DEMO_PASSWORD,
            display_name="Alice Admin",
        ),
    )
    return Principal(user_id=user.id, role=Role.ADMIN)


async def _printed_staff(ctx: AppContext, admin: Principal, d: Directory) -> UserOut:
    """The supervisor and the agent whose logins are printed; the agent, once created."""
    await create_user_as_system(
        ctx,
        UserCreate(
            email=_login(Role.SUPERVISOR),
            role=Role.SUPERVISOR,
            password=DEMO_PASSWORD,
            display_name="Sam Supervisor",
            site_id=d.sites[DEMO_AGENT_SITE],
            team_id=d.teams[DEMO_SUPERVISOR_TEAM],
        ),
    )
    agent = await create_user_as_system(
        ctx,
        UserCreate(
            email=_login(Role.AGENT),
            role=Role.AGENT,
            password=DEMO_PASSWORD,
            display_name="Ada Agent",
            site_id=d.sites[DEMO_AGENT_SITE],
            team_id=d.teams[DEMO_AGENT_TEAM],
            languages=["fr", "en"],
            capacity=AGENT_CAPACITY,
        ),
    )
    await set_user_skills(
        ctx,
        admin,
        agent.id,
        [SkillLevel(skill_id=d.skills[name], level=level) for name, level in DEMO_AGENT_SKILLS],
    )
    return agent


async def _directory(ctx: AppContext, admin: Principal) -> Directory:
    d = Directory()
    for name, kind, tz in SITES:
        site = await create_site(
            ctx, admin, SiteCreate(name=name, kind=SiteKind(kind), timezone=tz)
        )
        d.sites[name] = site.id
    for name, description in TEAMS:
        d.teams[name] = (
            await create_team(ctx, admin, TeamCreate(name=name, description=description))
        ).id
    for name, description in SKILLS:
        d.skills[name] = (
            await create_skill(ctx, admin, SkillCreate(name=name, description=description))
        ).id
    office = await create_business_hours(
        ctx, admin, BusinessHoursCreate.model_validate(BUSINESS_HOURS)
    )
    for day, name in HOLIDAYS:
        await add_holiday(ctx, admin, office.id, HolidayCreate(day=day, name=name))
    for spec in QUEUES:
        queue = await create_queue(
            ctx,
            admin,
            QueueCreate(
                name=spec.name,
                channel=Channel(spec.channel),
                team_id=d.teams[spec.team],
                site_id=d.sites[spec.site] if spec.site else None,
                business_hours_id=office.id if spec.office_hours else None,
                target_expression=spec.target,
                priority=spec.priority,
                service_level_seconds=spec.service_level_seconds,
            ),
        )
        d.queues[spec.name] = queue.id
    await create_account(
        ctx,
        admin,
        ChannelAccountCreate(
            channel=Channel.EMAIL,
            provider="smtp",
            address=DEMO_MAILBOX,
            name="Customer service mailbox",
            queue_id=d.queues["Customer service — e-mail"],
            auto_ack_hours=48,
            locale="fr",
        ),
    )
    await create_account(
        ctx,
        admin,
        ChannelAccountCreate(
            channel=Channel.CHAT,
            provider="widget",
            address=DEMO_WIDGET,
            name="Vigilo website chat",
            queue_id=d.queues["Web chat"],
            settings={
                "title_en": "Chat with Vigilo",
                "title_fr": "Discuter avec Vigilo",
                "offline_mailbox": DEMO_MAILBOX,
                "invitations": [
                    {
                        "path_prefix": "/chat/try",
                        "seconds_on_page": 20,
                        "message_en": "Questions about your alarm? We are here to help.",
                        "message_fr": "Une question sur votre alarme ? Nous sommes là.",
                    }
                ],
            },
        ),
    )
    for channel, provider, address, name, queue_name in (
        (Channel.SMS, "twilio", DEMO_SMS_NUMBER, "Vigilo SMS", "SMS"),
        (Channel.WHATSAPP, "meta", DEMO_WHATSAPP_ID, "Vigilo on WhatsApp", "WhatsApp"),
        (Channel.MESSENGER, "meta", DEMO_PAGE_ID, "Vigilo on Facebook", "Messenger"),
    ):
        await create_account(
            ctx,
            admin,
            ChannelAccountCreate(
                channel=channel,
                provider=provider,
                address=address,
                name=name,
                queue_id=d.queues[queue_name],
                locale="fr",
            ),
        )
    for reason in REASONS:
        parent = d.reasons[(reason.axis, reason.parent)] if reason.parent else None
        created = await create_reason(
            ctx,
            admin,
            ReasonCreate.model_validate(
                {
                    "axis": reason.axis,
                    "code": reason.code,
                    "parent_id": parent,
                    "labels": {"en": reason.en, "fr": reason.fr},
                }
            ),
        )
        d.reasons[(reason.axis, reason.code)] = created.id
    return d


def crm_reference(number: int) -> str:
    """The n-th demo customer's reference in the demo's simulated CRM."""
    return f"VIG-{number:06d}"


async def _connectors(ctx: AppContext, admin: Principal) -> None:
    """The connectors to the demo's simulated CRM (``opencx.cli.demo_crm``)."""
    for spec in demo_connectors():
        await create_connector(ctx, admin, ConnectorCreate.model_validate(spec))


async def _agents(ctx: AppContext, admin: Principal, d: Directory) -> None:
    for spec in AGENTS:
        local = spec.name.lower().replace(" ", ".")
        email = "".join(c for c in _ascii(local) if c.isalnum() or c == ".") + f"@{DEMO_DOMAIN}"
        user = await create_user_as_system(
            ctx,
            UserCreate(
                email=email,
                role=Role(spec.role),
                display_name=spec.name,
                site_id=d.sites[spec.site],
                team_id=d.teams[spec.team],
                languages=list(spec.languages),
                capacity=AGENT_CAPACITY,
                locale="fr" if "fr" in spec.languages else "en",
                timezone=next(tz for name, _kind, tz in SITES if name == spec.site),
            ),
        )
        await set_user_skills(
            ctx,
            admin,
            user.id,
            [SkillLevel(skill_id=d.skills[name], level=level) for name, level in spec.skills],
        )
        d.agents_by_team.setdefault(spec.team, []).append(user.id)


async def _simulated_agents(ctx: AppContext, admin: Principal, d: Directory) -> None:
    """The simulation's agents: no password (nobody signs in as them), offline until the
    simulation sets them available."""
    for spec in SIMULATED_AGENTS:
        local = _ascii(spec.name.lower().replace(" ", "."))
        user = await create_user_as_system(
            ctx,
            UserCreate(
                email=f"simulated.{local}@{DEMO_DOMAIN}",
                role=Role(spec.role),
                display_name=spec.name,
                site_id=d.sites[spec.site],
                team_id=d.teams[spec.team],
                languages=list(spec.languages),
                capacity=SIMULATED_CAPACITY,
            ),
            simulated=True,
        )
        await set_user_skills(
            ctx,
            admin,
            user.id,
            [SkillLevel(skill_id=d.skills[name], level=level) for name, level in spec.skills],
        )


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


@dataclass(frozen=True, slots=True)
class Person:
    """A seeded customer as their messages name them."""

    first: str
    email: str
    language: str = "en"


@dataclass(frozen=True)
class Scenario:
    subject: str
    queue: str
    steps: tuple[Channel, ...]
    declaration: str
    qualification: str
    action: str
    subject_fr: str = ""  # French-speaking customers write in French


SCENARIOS: list[Scenario] = [
    Scenario(
        "Device stopped giving alerts",
        "Technical support — phone",
        (Channel.VOICE,),
        "device.no_alerts",
        "device.firmware",
        "technical.remote_reset",
        "Mon boîtier ne donne plus d'alertes",
    ),
    Scenario(
        "Charged twice this month",
        "Customer service — e-mail",
        (Channel.EMAIL,),
        "billing.charged_twice",
        "payment.duplicate",
        "commercial.refund",
        "J'ai été prélevé deux fois ce mois-ci",
    ),
    Scenario(
        "Cannot sign in to the app",
        "Web chat",
        (Channel.CHAT,),
        "app.login",
        "account.locked",
        "account.password_reset",
        "Je n'arrive pas à me connecter à l'application",
    ),
    Scenario(
        "Wants to cancel",
        "Customer service — phone",
        (Channel.VOICE, Channel.EMAIL),
        "subscription.cancel",
        "payment.card_failed",
        "commercial.gesture",
        "Je veux résilier mon abonnement",
    ),
    Scenario(
        "Device will not pair",
        "Messenger",
        (Channel.MESSENGER, Channel.VOICE, Channel.EMAIL),
        "device.not_working",
        "device.not_paired",
        "technical.pairing_help",
        "Mon boîtier ne s'appaire pas",
    ),
    Scenario(
        "Renewal call",
        "Renewals — outbound",
        (Channel.VOICE,),
        "subscription.renew",
        "account.expired",
        "commercial.renewal_sold",
        "Appel de renouvellement",
    ),
    Scenario(
        "Invoice request",
        "Customer service — e-mail",
        (Channel.EMAIL,),
        "billing.invoice",
        "payment.card_failed",
        "account.escalated",
        "J'ai besoin d'une facture",
    ),
]

CUSTOMER_LINES: dict[Channel, str] = {
    Channel.EMAIL: "Hello, {subject_lower}. Could you help me? Thank you.",
    Channel.CHAT: "Hi! {subject}. Can someone help?",
    Channel.MESSENGER: "Hello, {subject_lower}, I tried everything in the app.",
}
AGENT_LINES: dict[Channel, str] = {
    Channel.EMAIL: "Hello {first}, thank you for your message. It is sorted: {action}.",
    Channel.CHAT: "Thanks {first}, I have done it for you: {action}.",
    Channel.MESSENGER: "Hi {first}, I will call you in a moment to sort it out.",
}
CUSTOMER_LINES_FR: dict[Channel, str] = {
    Channel.EMAIL: "Bonjour, {subject_lower}. Pouvez-vous m'aider ? Merci.",
    Channel.CHAT: "Bonjour ! {subject}. Quelqu'un peut m'aider ?",
    Channel.MESSENGER: "Bonjour, {subject_lower}, j'ai tout essayé dans l'application.",
}
AGENT_LINES_FR: dict[Channel, str] = {
    Channel.EMAIL: "Bonjour {first}, merci pour votre message. C'est réglé : {action}.",
    Channel.CHAT: "Merci {first}, c'est fait : {action}.",
    Channel.MESSENGER: "Bonjour {first}, je vous appelle dans un instant pour régler cela.",
}


async def _customer_history(
    ctx: AppContext,
    admin: Principal,
    d: Directory,
    rng: random.Random,
    clock: ManualClock,
    now: datetime,
    *,
    number: int,
) -> None:
    country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
    first, last = rng.choice(country.first_names), rng.choice(country.last_names)
    profile = _customer_profile(rng, country, first, last, now)
    # The reference the demo's simulated CRM knows them by (its connectors' placeholder).
    profile.identities.append(IdentityIn(kind=IdentityKind.EXTERNAL, value=crm_reference(number)))
    customer = await create_customer(ctx, admin, profile)
    person = Person(first, profile.identities[0].value, country.language)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        scenario = rng.choice(SCENARIOS)
        clock.current = _working_time(rng, now)
        await _conversation(ctx, admin, d, rng, clock, customer.id, person, scenario, now)


def _customer_profile(
    rng: random.Random, country: CountrySpec, first: str, last: str, now: datetime
) -> CustomerCreate:
    local = _ascii(f"{first}.{last}".lower().replace(" ", ""))
    phone = _mobile_number(rng, country)
    start = now.date() - timedelta(days=rng.randrange(60, 1000))
    return CustomerCreate(
        display_name=f"{first} {last}",
        language=country.language,
        country=country.code,
        segment=rng.choice(("standard", "standard", "premium", "fleet")),
        lifetime_value=round(rng.uniform(40, 900), 2),
        subscription_start=start,
        subscription_end=start + timedelta(days=365 * rng.choice((1, 2))),
        identities=[
            IdentityIn(
                kind=IdentityKind.EMAIL, value=f"{local}.{rng.randrange(10**6)}@example.com"
            ),
            IdentityIn(kind=IdentityKind.PHONE, value=phone),
        ],
    )


def _mobile_number(rng: random.Random, country: CountrySpec) -> str:
    """A random number that the numbering plan accepts (some ranges belong elsewhere)."""
    digits = E164_DIGITS[country.code] - (len(country.phone_prefix) - 1)
    while True:
        candidate = country.phone_prefix + "".join(str(rng.randrange(10)) for _ in range(digits))
        if is_valid_phone(candidate):
            return normalise_phone(candidate)


def _working_time(rng: random.Random, now: datetime) -> datetime:
    paris = ZoneInfo("Europe/Paris")
    day: date = (now - timedelta(days=rng.randrange(1, HISTORY_DAYS))).astimezone(paris).date()
    while day.weekday() == 6:
        day -= timedelta(days=1)
    moment = time(rng.randrange(8, 19), rng.randrange(60), rng.randrange(60))
    return datetime.combine(day, moment, paris).astimezone(UTC)


async def _conversation(
    ctx: AppContext,
    admin: Principal,
    d: Directory,
    rng: random.Random,
    clock: ManualClock,
    customer_id: int,
    person: Person,
    scenario: Scenario,
    now: datetime,
) -> None:
    queue_name = scenario.queue
    team = next(q.team for q in QUEUES if q.name == queue_name)
    agent_id = rng.choice(d.agents_by_team[team])
    agent = Principal(user_id=agent_id, role=Role.AGENT)
    conversation = await create_conversation(
        ctx,
        admin,
        ConversationCreate(
            customer_id=customer_id,
            subject=_subject(scenario, person),
            intent=scenario.declaration.split(".")[0],
            queue_id=d.queues[queue_name],
            assignee_id=agent_id,
        ),
    )
    reason = next(r for r in REASONS if r.code == scenario.action)
    action_label = (reason.fr if person.language == "fr" else reason.en).lower()
    abandoned = scenario.steps == (Channel.VOICE,) and rng.random() < 0.08
    for index, channel in enumerate(scenario.steps):
        outbound = queue_name.startswith("Renewals") or (index > 0 and channel is Channel.VOICE)
        await _interaction(
            ctx,
            agent,
            admin,
            rng,
            clock,
            conversation.id,
            channel,
            d.queues[queue_name],
            outbound=outbound,
            abandoned=abandoned,
            lines=(person, _subject(scenario, person), action_label),
        )
        clock.current += timedelta(minutes=rng.randrange(5, 240))
    if abandoned:
        return
    await update_conversation(
        ctx,
        agent,
        conversation.id,
        ConversationUpdate(
            declaration_reason_id=d.reasons[("declaration", scenario.declaration)],
            qualification_reason_id=d.reasons[("qualification", scenario.qualification)],
            action_reason_id=d.reasons[("action", scenario.action)],
        ),
    )
    if clock.current < now - timedelta(days=2) or rng.random() < 0.6:
        final = ConversationStatus.CLOSED if rng.random() < 0.7 else ConversationStatus.RESOLVED
        await change_conversation_status(ctx, agent, conversation.id, StatusChange(status=final))


def _subject(scenario: Scenario, person: Person) -> str:
    return scenario.subject_fr if person.language == "fr" else scenario.subject


async def _interaction(
    ctx: AppContext,
    agent: Principal,
    admin: Principal,
    rng: random.Random,
    clock: ManualClock,
    conversation_id: int,
    channel: Channel,
    queue_id: int,
    *,
    outbound: bool,
    abandoned: bool,
    lines: tuple[Person, str, str],
) -> None:
    person, subject, action = lines
    direction = Direction.OUTBOUND if outbound else Direction.INBOUND
    interaction = await create_interaction(
        ctx,
        admin,
        conversation_id,
        InteractionCreate(channel=channel, direction=direction, queue_id=queue_id),
    )

    async def move(state: InteractionState, after_seconds: float) -> None:
        clock.current += timedelta(seconds=after_seconds)
        await change_interaction_state(ctx, admin, interaction.id, StateChange(state=state))

    french = person.language == "fr"
    customer_lines = CUSTOMER_LINES_FR if french else CUSTOMER_LINES
    agent_lines = AGENT_LINES_FR if french else AGENT_LINES
    if not outbound and channel in customer_lines:
        text = customer_lines[channel].format(subject=subject, subject_lower=subject.lower())
        said, _ = await post_message(
            ctx,
            admin,
            conversation_id,
            MessageCreate(
                body_text=text,
                channel=channel,
                direction=Direction.INBOUND,
                author_kind=AuthorKind.CUSTOMER,
                interaction_id=interaction.id,
            ),
        )
        if channel is Channel.EMAIL:
            await _received_by_email(ctx, said.id, sender=person.email, subject=subject)
    await move(InteractionState.QUEUED, 1)
    if abandoned:
        await move(InteractionState.ABANDONED, rng.expovariate(1 / 90))
        return
    await move(InteractionState.OFFERED, rng.expovariate(1 / 40))
    await move(InteractionState.ACTIVE, rng.uniform(3, 12))
    if channel in agent_lines:
        clock.current += timedelta(seconds=rng.uniform(60, 400))
        answer, _ = await post_message(
            ctx,
            agent,
            conversation_id,
            MessageCreate(
                body_text=agent_lines[channel].format(first=person.first, action=action),
                channel=channel,
                direction=Direction.OUTBOUND,
                author_kind=AuthorKind.AGENT,
                interaction_id=interaction.id,
            ),
        )
        await _sent(ctx, answer.id)
    await move(InteractionState.WRAP_UP, rng.lognormvariate(5.3, 0.5))
    await move(InteractionState.ENDED, rng.uniform(10, 60))


async def _received_by_email(
    ctx: AppContext, message_id: int, *, sender: str, subject: str
) -> None:
    """What the SMTP intake keeps of a received e-mail (``contacts.store``), so that an answer
    to a seeded conversation has an address to go to, and the message says where it
    came from. No reply route: the sender reads these strings, as it does for messages
    received before routes were kept."""
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id)
        assert message is not None
        message.metadata_ = {
            "provider": "smtp",
            "sender": sender,
            "recipient": DEMO_MAILBOX,
            "subject": subject,
        }


async def _sent(ctx: AppContext, message_id: int) -> None:
    """A seeded answer left a month ago: it is sent history, not a message queued for a
    relay (``HistoryJobs`` deferred no job to send it)."""
    async with transaction(ctx) as session:
        message = await session.get(Message, message_id)
        assert message is not None
        await set_delivery_status(session, ctx, message, DeliveryStatus.SENT)
