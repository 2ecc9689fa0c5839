"""Knowledge-base articles: agents read the published ones, supervisors and admins
write them.

Listing with ``q`` searches: articles are ranked by BM25 relevance (the suggestions'
index: French and English stemming, stop words), best first, in the language asked
for or in both; without ``q`` they are listed by id, page by page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.errors import InvalidInput
from opencx.core.knowledge import Audience, ContentLocale, SourceKind, Viewer, may_see
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import KnowledgeArticle
from opencx.features.common import Page, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.knowledge.access import (
    article_audience,
    article_visibility,
    check_manage,
    choose_site,
    load_article,
    load_viewer,
    record_knowledge_change,
)
from opencx.features.knowledge.schemas import ArticleCreate, ArticleOut, ArticleUpdate
from opencx.features.knowledge.toolbox import current_toolbox, read_stamp
from opencx.ranking import Hit, terms

__all__ = [
    "create_article",
    "delete_article",
    "get_article",
    "list_articles",
    "update_article",
]

KIND = "knowledge_article"


async def list_articles(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
    locale: ContentLocale | None = None,
    published: bool | None = None,
) -> Page[ArticleOut]:
    """Without ``q``, by id; with ``q``, the ``limit`` most relevant, best first, with
    their ``score`` (one page: ``next_cursor`` is null)."""
    require(principal, Permission.KNOWLEDGE_READ)
    if q and q.strip():
        return await _search(ctx, principal, q, locale, published, limit)
    stmt = select(KnowledgeArticle)
    if locale is not None:
        stmt = stmt.where(KnowledgeArticle.locale == locale.value)
    if published is not None:
        stmt = stmt.where(KnowledgeArticle.published.is_(published))
    async with transaction(ctx) as session:
        visibility = article_visibility(await load_viewer(session, principal))
        if visibility is not None:
            stmt = stmt.where(visibility)
        return await paginate(
            session,
            stmt,
            id_column=KnowledgeArticle.id,
            cursor=cursor,
            limit=limit,
            to_out=ArticleOut.model_validate,
        )


async def _search(
    ctx: AppContext,
    principal: Principal,
    q: str,
    locale: ContentLocale | None,
    published: bool | None,
    limit: int,
) -> Page[ArticleOut]:
    async with transaction(ctx) as session:
        viewer = await load_viewer(session, principal)
        stamp = await read_stamp(session)
    toolbox = await current_toolbox(ctx, stamp)

    def allowed(audience: Audience) -> bool:
        wanted = published is None or audience.published is published
        return audience.kind is SourceKind.ARTICLE and wanted and may_see(viewer, audience)

    hits: list[Hit] = []
    for language in [locale] if locale is not None else list(ContentLocale):
        hits += toolbox.index.search(terms(q, language), language, allowed=allowed, limit=limit)
    hits.sort(key=lambda hit: -hit.score)
    scores = {hit.document.id: hit.score for hit in hits}
    async with transaction(ctx) as session:
        rows = {
            row.id: row
            for row in await session.scalars(
                select(KnowledgeArticle).where(KnowledgeArticle.id.in_(scores))
            )
        }
    items = [
        ArticleOut.model_validate(row).model_copy(update={"score": round(scores[row_id], 4)})
        for row_id in scores
        if (row := rows.get(row_id)) is not None
    ]
    return Page[ArticleOut](items=items[:limit], next_cursor=None)


async def get_article(ctx: AppContext, principal: Principal, article_id: int) -> ArticleOut:
    require(principal, Permission.KNOWLEDGE_READ)
    async with transaction(ctx) as session:
        viewer = await load_viewer(session, principal)
        return ArticleOut.model_validate(await load_article(session, viewer, article_id))


async def create_article(ctx: AppContext, principal: Principal, data: ArticleCreate) -> ArticleOut:
    require(principal, Permission.KNOWLEDGE_WRITE)
    async with transaction(ctx) as session:
        viewer = await load_viewer(session, principal)
        site_id = await choose_site(session, principal, data.site_id)
        audience = Audience(kind=SourceKind.ARTICLE, site_id=site_id, published=data.published)
        check_manage(viewer, audience, "articles")
        row = KnowledgeArticle(
            **data.model_dump(exclude={"site_id"}), site_id=site_id, author_id=principal.user_id
        )
        session.add(row)
        await session.flush()
        await _record(session, ctx, principal, row, "create", data.model_dump(mode="json"))
        return ArticleOut.model_validate(row)


async def update_article(
    ctx: AppContext, principal: Principal, article_id: int, data: ArticleUpdate
) -> ArticleOut:
    require(principal, Permission.KNOWLEDGE_WRITE)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput(f"{name} cannot be set to null", field=name)
    async with transaction(ctx) as session:
        viewer = await load_viewer(session, principal)
        row = await _writable(session, viewer, article_id)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = ctx.clock.now()
        await session.flush()
        await _record(
            session, ctx, principal, row, "update", data.model_dump(mode="json", exclude_unset=True)
        )
        return ArticleOut.model_validate(row)


async def delete_article(ctx: AppContext, principal: Principal, article_id: int) -> None:
    require(principal, Permission.KNOWLEDGE_WRITE)
    async with transaction(ctx) as session:
        viewer = await load_viewer(session, principal)
        row = await _writable(session, viewer, article_id)
        await session.delete(row)
        await session.flush()
        await _record(session, ctx, principal, row, "delete", {"title": row.title})


async def _writable(session: AsyncSession, viewer: Viewer, article_id: int) -> KnowledgeArticle:
    row = await load_article(session, viewer, article_id, for_update=True)
    check_manage(viewer, article_audience(row), "this article")
    return row


async def _record(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    row: KnowledgeArticle,
    action: str,
    changes: dict[str, Any],
) -> None:
    await record_knowledge_change(
        session,
        ctx,
        principal,
        kind=KIND,
        entity_id=row.id,
        action=action,
        site_id=row.site_id,
        changes=changes,
        payload={"locale": row.locale, "published": row.published},
    )
