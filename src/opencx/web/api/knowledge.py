"""/api/v1/knowledge/articles: the knowledge base, searched by relevance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from opencx.core.knowledge import ContentLocale
from opencx.features import knowledge
from opencx.features.common import Page
from opencx.web.deps import TEXT, ContextDep, CursorQuery, EntityId, LimitQuery, PrincipalDep
from opencx.web.idempotent import created

router = APIRouter(prefix="/knowledge/articles", tags=["knowledge"])

Search = Annotated[
    str | None,
    Query(pattern=TEXT, max_length=500, description="words to search for, ranked by relevance"),
]


@router.get("", response_model=Page[knowledge.ArticleOut])
async def list_articles(
    ctx: ContextDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    q: Search = None,
    locale: ContentLocale | None = None,
    published: bool | None = None,
) -> Page[knowledge.ArticleOut]:
    """With ``q``: the most relevant articles, best first, each with its ``score``, in
    one page. Without: by id, page by page. Agents see published articles only."""
    return await knowledge.list_articles(
        ctx, principal, cursor=cursor, limit=limit, q=q, locale=locale, published=published
    )


@router.post("", status_code=201, response_model=knowledge.ArticleOut)
async def create_article(
    request: Request, ctx: ContextDep, principal: PrincipalDep, body: knowledge.ArticleCreate
) -> JSONResponse:
    return await created(
        request, ctx, principal, lambda: knowledge.create_article(ctx, principal, body)
    )


@router.get("/{article_id}", response_model=knowledge.ArticleOut)
async def get_article(
    ctx: ContextDep, principal: PrincipalDep, article_id: EntityId
) -> knowledge.ArticleOut:
    return await knowledge.get_article(ctx, principal, article_id)


@router.patch("/{article_id}", response_model=knowledge.ArticleOut)
async def update_article(
    ctx: ContextDep, principal: PrincipalDep, article_id: EntityId, body: knowledge.ArticleUpdate
) -> knowledge.ArticleOut:
    return await knowledge.update_article(ctx, principal, article_id, body)


@router.delete("/{article_id}", status_code=204)
async def delete_article(ctx: ContextDep, principal: PrincipalDep, article_id: EntityId) -> None:
    await knowledge.delete_article(ctx, principal, article_id)
