"""Suggested answers: latency of ``GET /api/v1/conversations/{id}/suggestions``, in
process, with a large toolbox on SQLite.

Builds the app as ``opencx serve`` does on a fresh SQLite file, then writes (with bulk
inserts, not measured) ``--articles`` published articles (1,000), ``--past``
resolved conversations each with a customer's question and an agent's answer (5,000),
40 canned responses, half in French and half in English, and 200 open conversations
whose customers ask something. Then, one request at a time, as an agent:
- cold: the first request, which builds the index;
- warm: p50 and p99 of ``--requests`` requests over the open conversations;
- refresh: one request after a conversation was resolved (the index is rebuilt, its
  unchanged documents reused);
- ranking alone: the index's part of a warm request (terms, BM25 under the caller's
  rights), without the database reads around it.
Prints the figures, then one JSON line.

    python bench/suggestions.py [--articles 1000] [--past 5000] [--requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvloop
from sqlalchemy import insert, select

from opencx.core.enums import (
    AuthorKind,
    Channel,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Role,
)
from opencx.core.events import EventType
from opencx.core.knowledge import ContentLocale, Viewer, may_see
from opencx.core.permissions import Principal
from opencx.db.models import (
    CannedResponse,
    Conversation,
    Customer,
    KnowledgeArticle,
    Message,
)
from opencx.features.auth.tokens import create_api_token
from opencx.features.context import AppContext, transaction
from opencx.features.events.record import record_event
from opencx.features.knowledge.toolbox import current_toolbox
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.ranking import guess_language, terms
from opencx.runtime import build_context, upgrade_database
from opencx.settings import DatabaseSettings, KnowledgeSettings, Settings, SmtpSettings
from opencx.web import create_app

TOPICS = {
    "fr": [
        ("remboursement", "prélevé deux fois rembourser prélèvement double remboursé compte"),
        ("livraison", "colis livraison boîtier expédié suivi retard livré adresse"),
        ("mot de passe", "connexion mot passe oublié application verrouillé lien"),
        ("facture", "facture facturation espace client pdf société montant"),
        ("appairage", "appairer bluetooth boîtier application bouton clignote"),
        ("alertes", "alertes route boîtier silencieux micrologiciel mise jour"),
        ("résiliation", "résilier contrat abonnement préavis engagement fin"),
        ("renouvellement", "renouveler abonnement échéance offre mois offerts"),
    ],
    "en": [
        ("refund", "charged twice refund duplicate payment debit account"),
        ("delivery", "parcel delivery device shipped tracking late delivered address"),
        ("password", "sign in password forgot app locked link reset"),
        ("invoice", "invoice billing account pdf company amount"),
        ("pairing", "pair bluetooth device app button flashing"),
        ("alerts", "alerts road device silent firmware update"),
        ("cancellation", "cancel contract subscription notice commitment end"),
        ("renewal", "renew subscription expiry offer free months"),
    ],
}
FILLER = {
    "fr": ["client", "service", "compte", "jour", "semaine", "merci", "depuis", "encore"],
    "en": ["customer", "service", "account", "day", "week", "thanks", "since", "still"],
}


def sentence(rng: random.Random, language: str, words: int) -> tuple[str, str]:
    topic, vocabulary = rng.choice(TOPICS[language])
    pool = vocabulary.split() * 3 + FILLER[language]
    return topic, " ".join(rng.choice(pool) for _ in range(words))


async def populate(ctx: AppContext, rng: random.Random, articles: int, past: int) -> list[int]:
    """The toolbox and the history, inserted in bulk; the ids of open conversations."""
    now = datetime.now(UTC)
    async with transaction(ctx) as session:
        await session.execute(
            insert(Customer),
            [
                {"display_name": f"Customer {n}", "language": ("fr", "en")[n % 2]}
                for n in range(past + 200)
            ],
        )
        rows = []
        for n in range(articles):
            language = ("fr", "en")[n % 2]
            topic, body = sentence(rng, language, rng.randrange(80, 200))
            rows.append(
                {
                    "title": f"{topic} {n}",
                    "body": body,
                    "locale": language,
                    "tags": [topic],
                    "published": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        await session.execute(insert(KnowledgeArticle), rows)
        rows = []
        for n in range(40):
            language = ("fr", "en")[n % 2]
            topic, body = sentence(rng, language, 40)
            rows.append(
                {
                    "title": f"{topic} {n}",
                    "body": "{{ customer.first_name }} " + body,
                    "locale": language,
                    "scope": "company",
                    "scope_key": "company",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        await session.execute(insert(CannedResponse), rows)
        conversations = [
            {
                "customer_id": n + 1,
                "subject": "",
                "status": ConversationStatus.RESOLVED if n < past else ConversationStatus.OPEN,
                "priority": 0,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(past + 200)
        ]
        await session.execute(insert(Conversation), conversations)
        messages = []
        for n in range(past + 200):
            language = ("fr", "en")[n % 2]
            said = [
                (
                    AuthorKind.CUSTOMER,
                    Direction.INBOUND,
                    sentence(rng, language, rng.randrange(15, 40))[1],
                )
            ]
            if n < past:
                said.append(
                    (
                        AuthorKind.AGENT,
                        Direction.OUTBOUND,
                        sentence(rng, language, rng.randrange(15, 40))[1],
                    )
                )
            messages += [
                {
                    "conversation_id": n + 1,
                    "channel": Channel.CHAT,
                    "direction": direction,
                    "author_kind": author,
                    "body_text": text,
                    "delivery_status": DeliveryStatus.RECEIVED,
                    "metadata_": {},
                    "created_at": now,
                }
                for author, direction, text in said
            ]
        for start in range(0, len(messages), 2000):
            await session.execute(insert(Message), messages[start : start + 2000])
    return list(range(past + 1, past + 201))


async def rank_only(ctx: AppContext, conversation_ids: list[int], total: int) -> list[float]:
    """The index's own part of a request: terms, BM25 search under the caller's rights."""
    async with transaction(ctx) as session:
        rows = await session.execute(
            select(Message.conversation_id, Message.body_text).where(
                Message.conversation_id.in_(conversation_ids)
            )
        )
        questions = [(text, guess_language(text) or ContentLocale.EN) for _id, text in rows]
    toolbox = await current_toolbox(ctx)
    viewer = Viewer(Principal(user_id=1, role=Role.AGENT))
    samples = []
    for n in range(total):
        text, language = questions[n % len(questions)]
        began = time.perf_counter()
        toolbox.index.search(
            terms(text, language), language, allowed=lambda a: may_see(viewer, a), limit=6
        )
        samples.append(time.perf_counter() - began)
    return samples


def percentile(samples: list[float], share: float) -> float:
    return sorted(samples)[max(0, int(len(samples) * share) - 1)]


async def main(articles: int, past: int, total: int, url: str) -> dict[str, Any]:
    settings = Settings(
        env="test",
        database=DatabaseSettings(url=url),
        smtp=SmtpSettings(enabled=False),
        knowledge=KnowledgeSettings(past_conversations=past, refresh_seconds=0),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(upgrade_database, settings)
    ctx = build_context(settings)
    await create_user_as_system(ctx, UserCreate(email="agent@example.com", role=Role.AGENT))
    token = await create_api_token(ctx, email="agent@example.com")
    started = time.perf_counter()
    open_ids = await populate(ctx, random.Random(2026), articles, past)
    print(f"populated in {time.perf_counter() - started:.1f} s")
    transport = httpx.ASGITransport(app=create_app(ctx))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as http:

        async def suggest(conversation_id: int) -> float:
            began = time.perf_counter()
            response = await http.get(f"/api/v1/conversations/{conversation_id}/suggestions")
            response.raise_for_status()
            return time.perf_counter() - began

        cold = await suggest(open_ids[0])
        cpu = time.process_time()
        samples = [await suggest(open_ids[n % len(open_ids)]) for n in range(total)]
        cpu = (time.process_time() - cpu) / total
        ranking = await rank_only(ctx, open_ids, total)
        async with transaction(ctx) as session:
            conversation = await session.get(Conversation, open_ids[1])
            assert conversation is not None
            conversation.status = ConversationStatus.RESOLVED
            conversation.updated_at = datetime.now(UTC)
        # The index notices changes through the event log: record one as the service would.
        async with transaction(ctx) as session:
            await record_event(
                session,
                ctx,
                EventType.CONVERSATION_STATUS_CHANGED,
                entity_kind="conversation",
                entity_id=open_ids[1],
            )
        refresh = await suggest(open_ids[0])
        found = len((await http.get(f"/api/v1/conversations/{open_ids[0]}/suggestions")).json())
    await ctx.engine.dispose()
    figures = {
        "bench": "suggestions",
        "database": "sqlite",
        "articles": articles,
        "past_conversations": past,
        "suggestions_returned": found,
        "cold_ms": round(cold * 1000, 1),
        "warm_p50_ms": round(statistics.median(samples) * 1000, 3),
        "warm_p99_ms": round(percentile(samples, 0.99) * 1000, 3),
        "warm_cpu_ms": round(cpu * 1000, 3),
        "rank_p50_ms": round(statistics.median(ranking) * 1000, 3),
        "rank_p99_ms": round(percentile(ranking, 0.99) * 1000, 3),
        "refresh_ms": round(refresh * 1000, 1),
    }
    print(f"cold (index built)   {figures['cold_ms']:>9.1f} ms")
    print(f"warm p50             {figures['warm_p50_ms']:>9.3f} ms")
    print(f"warm p99             {figures['warm_p99_ms']:>9.3f} ms")
    print(f"warm CPU per request {figures['warm_cpu_ms']:>9.3f} ms")
    print(f"ranking alone p50    {figures['rank_p50_ms']:>9.3f} ms")
    print(f"ranking alone p99    {figures['rank_p99_ms']:>9.3f} ms")
    print(f"after a resolution   {figures['refresh_ms']:>9.1f} ms")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--past", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'suggestions.db'}"
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(main(args.articles, args.past, args.requests, url))
    print(json.dumps(result))
